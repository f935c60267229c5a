/** Optimal string alignment distance: one typo, a swapped pair, a missing letter each count 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d[i] = [i];
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within 3 edits and 40% of the length, like commander's own suggestions. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of new Set(candidates)) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The nearest known name, told twice: `suffix` ends a message ("; did you mean Engineering?")
 * and `hint` starts a hint ("did you mean Engineering? "); both '' when no name is close.
 */
export function didYouMean(word: string, candidates: readonly string[]): { suffix: string; hint: string } {
  const near = closest(word.trim(), candidates);
  return near === undefined ? { suffix: '', hint: '' } : { suffix: `; did you mean ${near}?`, hint: `did you mean ${near}? ` };
}
