import type { Plugin } from 'esbuild';

export const BYTE_LOOP: string;
export const ONE_COPY: string;
export const GLUE_FILTER: RegExp;
export function patchEmbindByteCopy(source: string, file: string): string;
export const embindByteCopy: Plugin;
