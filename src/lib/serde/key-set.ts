/**
 * The keys already seen in one object, to reject duplicates (OpenX builds each object with
 * `putOnce`, and Athena's OpenX fails such rows with "JSONException: Duplicate key").
 * Small objects use a linear scan, which beats hashing below a few dozen keys.
 */
export class KeySet {
  private readonly keys: string[] = [];
  private n = 0;
  private set: Set<string> | null = null;

  reset(): void {
    this.n = 0;
    this.set = null;
  }

  /** False when the key was already there. */
  add(key: string): boolean {
    if (this.set !== null) {
      if (this.set.has(key)) return false;
      this.set.add(key);
      return true;
    }
    const keys = this.keys;
    for (let j = 0; j < this.n; j++) if (keys[j] === key) return false;
    if (this.n < 24) {
      keys[this.n++] = key;
      return true;
    }
    this.set = new Set(keys.slice(0, this.n));
    this.set.add(key);
    return true;
  }
}
