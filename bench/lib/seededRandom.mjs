/** mulberry32: a repeatable random sequence per worker (the load workers share it). */
export function seededRandom(seedText) {
  let seed = Number(seedText) >>> 0 || 1;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, between: (low, high) => low + Math.floor(random() * (high - low + 1)) };
}
