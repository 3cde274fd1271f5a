// Deno has fetch; stands in for node-fetch (an optional dependency of tfjs-data) in the Deno bundle.
export default globalThis.fetch;
