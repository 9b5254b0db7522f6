/**
 * Small seeded PRNG (sfc32) whose whole state is four integers, so a training run
 * can checkpoint it and resume with exactly the same batches.
 */
export class Rng {
  private s: Uint32Array;
  constructor(seed: number | readonly number[]) {
    if (typeof seed === 'number') {
      this.s = new Uint32Array([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0]);
      for (let i = 0; i < 15; i++) this.nextU32();
    } else {
      this.s = Uint32Array.from(seed);
    }
  }
  nextU32(): number {
    const s = this.s;
    const t = (((s[0]! + s[1]!) | 0) + s[3]!) | 0;
    s[3] = (s[3]! + 1) | 0;
    s[0] = s[1]! ^ (s[1]! >>> 9);
    s[1] = (s[2]! + (s[2]! << 3)) | 0;
    s[2] = (s[2]! << 21) | (s[2]! >>> 11);
    s[2] = (s[2]! + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  state(): number[] {
    return Array.from(this.s);
  }
}
