//! JPEG marker walks, as src/render/jpeg-dc-scans.ts writes them in JavaScript (the reference
//! they are tested against): `problem` is `jpegStructureProblem`, verdict for verdict
//! (test/render/jpeg-structure.test.ts, on mutated files): the stream must reach its
//! end-of-image marker, carry at most `MAX_SCANS` scans, and its scans must bring every
//! coefficient of every component to full precision; `without_ac_scans` is `withoutAcScans`
//! (test/render/jpeg-scaled.test.ts), in place. Every JPEG source is walked to its end before
//! it is decoded, and entropy-coded data holds a 0xFF every few hundred bytes: JavaScript's
//! `indexOf` per 0xFF took ~0.5 ms a MB, sixteen bytes at a time here ~0.02.

/// What is wrong (the `u32` `jpeg_structure` returns; jpeg-dc-scans.ts words each).
pub const SOUND: u32 = 0;
pub const TOO_MANY_SCANS: u32 = 1;
pub const TRUNCATED: u32 = 2;
pub const NO_FRAME: u32 = 3;
pub const INCOMPLETE: u32 = 4;

/// jpeg-dc-scans.ts `MAX_JPEG_SCANS`.
const MAX_SCANS: usize = 100;
const SOI: u8 = 0xd8;
const EOI: u8 = 0xd9;
const SOS: u8 = 0xda;
/// A coefficient no scan has reached yet (successive-approximation bits are 0–15).
const UNREACHED: u8 = u8::MAX;

/// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_frame_header(m: u8) -> bool {
    (0xc0..=0xcf).contains(&m) && m != 0xc4 && m != 0xc8 && m != 0xcc
}

/// The byte at `i`, or `default` past the end (JavaScript's `bytes[i] ?? default`).
fn at(b: &[u8], i: usize, default: u8) -> u8 {
    b.get(i).copied().unwrap_or(default)
}

/// The first 0xFF at or after `from`, a byte at a time.
fn find_ff_bytewise(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?.iter().position(|&v| v == 0xff).map(|p| from + p)
}

/// The first 0xFF at or after `from`: sixteen bytes at a time, the tail a byte at a time.
#[cfg(target_arch = "wasm32")]
fn find_ff(b: &[u8], from: usize) -> Option<usize> {
    use core::arch::wasm32::*;
    let n = b.len();
    let mut i = from;
    let ff = u8x16_splat(0xff);
    while i + 16 <= n {
        // SAFETY: i + 16 <= n, and v128_load has no alignment requirement.
        let v = unsafe { v128_load(b.as_ptr().add(i) as *const v128) };
        let hits = u8x16_bitmask(u8x16_eq(v, ff));
        if hits != 0 {
            return Some(i + hits.trailing_zeros() as usize);
        }
        i += 16;
    }
    find_ff_bytewise(b, i)
}

#[cfg(not(target_arch = "wasm32"))]
use find_ff_bytewise as find_ff;

/// The next marker after entropy-coded data: 0xFF not followed by a stuffed 0x00 or an RSTn
/// (0xFF 0xFF is fill before one), else the end of the bytes.
fn entropy_data_end(b: &[u8], from: usize) -> usize {
    let mut j = find_ff(b, from);
    while let Some(k) = j {
        if k + 1 >= b.len() {
            break;
        }
        let next = b[k + 1];
        if next != 0x00 && !(0xd0..=0xd7).contains(&next) {
            return k;
        }
        j = find_ff(b, k + 1);
    }
    b.len()
}

/// One step of the marker walk (jpeg-dc-scans.ts `segments`).
enum Step {
    /// A marker segment from `at`; `end` is where the next marker starts (after a scan's entropy-coded data).
    Segment { marker: u8, at: usize, end: usize },
    /// The end-of-image marker: the walk is complete.
    End,
    /// The stream cannot be walked further (a cut file, a bad length, no start-of-image marker).
    Bad,
}

/// The marker segments from SOI on, then `End` or `Bad`.
struct Segments<'a> {
    b: &'a [u8],
    i: usize,
    finished: bool,
}

fn segments(b: &[u8]) -> Segments<'_> {
    Segments { b, i: 0, finished: false }
}

impl Iterator for Segments<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        if self.finished {
            return None;
        }
        let b = self.b;
        let step = self.step(b);
        self.finished = !matches!(step, Step::Segment { .. });
        Some(step)
    }
}

impl Segments<'_> {
    fn step(&mut self, b: &[u8]) -> Step {
        if self.i == 0 {
            if at(b, 0, 0) != 0xff || at(b, 1, 0) != SOI {
                return Step::Bad;
            }
            self.i = 2;
        }
        while self.i + 1 < b.len() {
            let i = self.i;
            if b[i] != 0xff {
                // Stray bytes before a marker: libjpeg skips them with a warning, and some cameras write them.
                match find_ff(b, i) {
                    Some(k) => self.i = k,
                    None => return Step::Bad,
                }
                continue;
            }
            let marker = b[i + 1];
            if marker == 0xff {
                self.i += 1; // fill byte
                continue;
            }
            if marker == EOI {
                return Step::End;
            }
            if i + 3 >= b.len() {
                return Step::Bad;
            }
            let length = ((b[i + 2] as usize) << 8) | b[i + 3] as usize;
            let header = i + 2 + length;
            if length < 2 || header > b.len() {
                return Step::Bad;
            }
            let end = if marker == SOS { entropy_data_end(b, header) } else { header };
            self.i = end;
            return Step::Segment { marker, at: i, end };
        }
        Step::Bad
    }
}

pub fn problem(b: &[u8]) -> u32 {
    let mut scans = 0;
    let mut complete = false;
    // Component id (or -1 for a header cut short) → the finest precision each coefficient reached.
    let mut precision: Vec<(i32, [u8; 64])> = Vec::new();
    let component = |i: usize| b.get(i).map_or(-1, |&v| v as i32);
    for step in segments(b) {
        let (marker, i) = match step {
            Step::Segment { marker, at, .. } => (marker, at),
            Step::End => {
                complete = true;
                break;
            }
            Step::Bad => return TRUNCATED,
        };
        if is_frame_header(marker) {
            let count = at(b, i + 9, 0) as usize;
            for c in 0..count {
                let id = component(i + 10 + 3 * c);
                match precision.iter_mut().find(|(k, _)| *k == id) {
                    Some((_, reached)) => *reached = [UNREACHED; 64],
                    None => precision.push((id, [UNREACHED; 64])),
                }
            }
        }
        if marker != SOS {
            continue;
        }
        scans += 1;
        if scans > MAX_SCANS {
            return TOO_MANY_SCANS;
        }
        let count = at(b, i + 4, 0) as usize;
        let p = i + 5 + 2 * count;
        let (ss, se, al) = (at(b, p, 0) as usize, at(b, p + 1, 63) as usize, at(b, p + 2, 0) & 15);
        for c in 0..count {
            let id = component(i + 5 + 2 * c);
            let Some((_, reached)) = precision.iter_mut().find(|(k, _)| *k == id) else { return TRUNCATED };
            for r in reached.iter_mut().take(se.min(63) + 1).skip(ss) {
                *r = (*r).min(al);
            }
        }
    }
    if !complete {
        return TRUNCATED;
    }
    if precision.is_empty() {
        return NO_FRAME;
    }
    if precision.iter().any(|(_, reached)| reached.iter().any(|&al| al != 0)) {
        return INCOMPLETE;
    }
    SOUND
}

/// A progressive JPEG sends each block's DC coefficient in scans of its own, ahead of the AC
/// scans; a 1/8 decode reads nothing but the DC, so the AC scans (spectral selection start > 0)
/// can be dropped without changing a pixel (~85% of a phone photo's bytes). Drops them from
/// `b` in place and returns the new length; `b.len()` for a baseline file or one that cannot be
/// walked to its end (the decoder then reads it whole and says what is wrong). The same bytes
/// as jpeg-dc-scans.ts `withoutAcScans` (test/render/jpeg-scaled.test.ts).
pub fn without_ac_scans(b: &mut [u8]) -> usize {
    let len = b.len();
    // Progressive: SOF2 before the first scan (jpeg-dc-scans.ts `isProgressiveJpeg`).
    let progressive = segments(b)
        .map_while(|step| match step {
            Step::Segment { marker, .. } if marker != SOS => Some(marker),
            _ => None,
        })
        .any(|marker| marker == 0xc2);
    if !progressive {
        return len;
    }
    let mut cut: Vec<(usize, usize)> = Vec::new();
    let mut complete = false;
    for step in segments(b) {
        match step {
            Step::Segment { marker: SOS, at: i, end } => {
                let components = at(b, i + 4, 0) as usize;
                let Some(&spectral_start) = b.get(i + 5 + 2 * components) else { return len };
                if spectral_start > 0 {
                    cut.push((i, end));
                }
            }
            Step::Segment { .. } => {}
            Step::End => complete = true,
            Step::Bad => return len,
        }
    }
    if !complete {
        return len;
    }
    let (mut write, mut read) = (0, 0);
    for (from, to) in cut {
        b.copy_within(read..from, write);
        write += from - read;
        read = to;
    }
    b.copy_within(read..len, write);
    write + len - read
}
