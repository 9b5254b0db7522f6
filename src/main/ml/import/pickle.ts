/**
 * A safe reader for the pickles inside PyTorch checkpoints. It understands only
 * plain data (dicts, lists, tuples, strings, numbers) and the few globals that
 * rebuild tensors; any other global (os.system, builtins.eval, a model class) is
 * refused before anything is built, so no file can make Restora run its code.
 * Opcodes per Python's pickletools documentation (protocols 0-5).
 */
import { RestoraError } from '../../../shared/errors.js';

/** What REDUCE / persistent ids turn into; the caller decides what each means. */
export interface PickleHooks {
  /** Called for each GLOBAL; return the object standing for it, or undefined to refuse it. */
  global(module: string, name: string): unknown;
  /** REDUCE: `callable` is what global() returned. */
  reduce(callable: unknown, args: unknown[]): unknown;
  /** BINPERSID / PERSID: PyTorch's storage references. */
  persistentLoad(pid: unknown): unknown;
}

const MARK = Symbol('mark');

/** Longest LONG1/LONG4 integer read: checkpoints hold small ints (PyTorch's magic number is 10 bytes). */
export const MAX_LONG_BYTES = 1024;
/**
 * Opcodes run per pickle. A state dict takes ~20 per tensor (Real-ESRGAN x4plus: ~15k,
 * with Adam's state ~50k);
 * each opcode is one byte but may build an object of ~50 bytes, so an unbounded count
 * would let a 45 MB pickle take gigabytes of heap.
 */
export const MAX_PICKLE_OPS = 1_000_000;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class PickleDict extends Map<unknown, unknown> {}

export interface PickleResult {
  value: unknown;
  /** Offset just past the STOP opcode (legacy checkpoints hold several pickles in a row). */
  end: number;
}

export function unpickle(buf: Uint8Array, hooks: PickleHooks, file: string, start = 0): PickleResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  const bad = (why: string): never => {
    throw new RestoraError('MODEL_INVALID', `${file}: not a readable PyTorch checkpoint (${why} at byte ${pos})`, file);
  };
  const need = (n: number) => {
    if (pos + n > buf.byteLength) bad('the pickle ends early: the file is truncated');
  };
  const u8 = () => (need(1), buf[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const bytes = (n: number) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const line = () => {
    const e = buf.indexOf(0x0a, pos);
    if (e < 0) bad('a text opcode has no end of line');
    const s = latin1.decode(buf.subarray(pos, e));
    pos = e + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) bad('stack underflow');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) bad('no mark on the stack');
    const items = stack.slice(i + 1);
    stack.length = i;
    return items;
  };
  const top = () => {
    if (stack.length === 0) bad('stack underflow');
    return stack[stack.length - 1];
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) bad('SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) bad('APPEND on something that is not a list');
    // One at a time: spreading 100k items would overflow the call stack.
    for (const item of items) (target as unknown[]).push(item);
  };
  /** A little-endian two's complement integer of n bytes; parsed as one hex string (linear, where shifting in bytes is quadratic). */
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) bad(`an integer of ${n} bytes, over the limit of ${MAX_LONG_BYTES} bytes`);
    const b = bytes(n);
    if (b.length === 0) return 0;
    const hex: string[] = [];
    for (let i = b.length - 1; i >= 0; i--) hex.push(HEX[b[i]!]!);
    let v = BigInt(`0x${hex.join('')}`);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const makeGlobal = (module: string, name: string) => {
    const g = hooks.global(module, name);
    if (g === undefined) {
      throw new RestoraError('MODEL_INVALID', `${file}: refused: the checkpoint asks to run ${module}.${name}, and Restora only reads tensors and plain containers (it never runs code from a model file)`, file);
    }
    return g;
  };

  for (let ops = 1; ; ops++) {
    if (ops > MAX_PICKLE_OPS) bad(`more than ${MAX_PICKLE_OPS} operations, over the limit for a state dict`);
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        bytes(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) bad('ADDITEMS on something that is not a set');
        for (const i of items) (s as Set<unknown>).add(i);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new PickleDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) bad(`memo ${k} is not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: // LONG4
        stack.push(long(u32()));
        break;
      case 0x49: {
        // INT (text); True/False are 01/00
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number(line().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(bytes(u8())));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(text.decode(bytes(n)));
        break;
      }
      case 0x54: // BINSTRING
        stack.push(latin1.decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(makeGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(makeGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args)) bad('REDUCE arguments are not a tuple');
        stack.push(hooks.reduce(callable, args as unknown[]));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); only the known globals get here
        const args = pop();
        const cls = pop();
        stack.push(hooks.reduce(cls, (args as unknown[]) ?? []));
        break;
      }
      case 0x62: {
        // BUILD: object state. Dicts (OrderedDict's _metadata) keep their items; the state is not needed.
        pop();
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        stack.push(hooks.persistentLoad(line()));
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        bad(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}
