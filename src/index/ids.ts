/** Ids cross the C ABI as u64: exact integers in 0..2^53−1, checked on the way in. */
import { InvalidArgument } from "../errors.ts";
import type { IdsInput } from "./types.ts";

const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;

export function checkId(id: unknown): asserts id is number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgument(`id must be an integer in 0..2^53-1, got ${id}`);
  }
}

/** Converts ids to the u64 array the C ABI takes, rejecting anything that is not an exact id. */
export function toIds(ids: IdsInput, n: number): BigUint64Array {
  if (ids.length !== n) throw new InvalidArgument(`got ${ids.length} ids for ${n} vectors`);
  if (ids instanceof BigUint64Array) return ids;
  if (ids instanceof Uint32Array) return BigUint64Array.from(ids, BigInt);
  if (!Array.isArray(ids)) {
    throw new InvalidArgument(`ids must be a Uint32Array, BigUint64Array or number[], got ${(ids as object).constructor?.name}`);
  }
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0 || id > MAX_SAFE_ID) {
      throw new InvalidArgument(`ids[${i}] = ${id} is not an integer in 0..2^53-1`);
    }
    out[i] = BigInt(id);
  }
  return out;
}

/** `toIds` for a list of ids on its own (a removal), of any length. */
export function toIdList(ids: IdsInput): BigUint64Array {
  if (!(ids instanceof BigUint64Array || ids instanceof Uint32Array || Array.isArray(ids))) {
    const what = ids === null || typeof ids !== "object" ? String(ids) : (ids as object).constructor?.name;
    throw new InvalidArgument(`ids must be a Uint32Array, BigUint64Array or number[], got ${what}`);
  }
  return toIds(ids, ids.length);
}
