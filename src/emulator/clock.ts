/** The emulator's clock: real time plus an offset that the control API can advance. */
export class Clock {
  #offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  /** Seconds since the epoch, as JWT claims carry them. */
  seconds(): number {
    return Math.floor((Date.now() + this.#offsetMs) / 1000);
  }

  advance(seconds: number): Date {
    this.#offsetMs += seconds * 1000;
    return this.now();
  }
}
