// fake_host.mjs: runs a wasm32-wasi guest under node's WASI with a fake
// wasi_ephemeral_nn (WasmEdge numbering and GGML semantics, a scripted
// model), to check the SDK's real wasm build end to end: the raw import
// signatures, the tensor struct, out-pointers, the too_large protocol.
//
//   node fake_host.mjs [--dir HOST:GUEST] GUEST.wasm [args...]
//
// Every alias except "default", "embed" and "long" is unknown (103). The
// model "writes" PIECES (split inside UTF-8 characters) then ends (100);
// "long" writes one 3000-byte piece, and 40000 bytes from compute, to
// drive the too_large retry through real guest memory.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import process from 'node:process';

const enc = new TextEncoder();
const bytes = (s) => Array.from(enc.encode(s));
// "Once upon a time\u201d.\nThe end" with the quote split over two pieces.
export const PIECES = [enc.encode('Once'), enc.encode(' upon'), enc.encode(' a'), enc.encode(' time'),
  Uint8Array.from([0xE2, 0x80]), Uint8Array.from([0x9D, 0x2E]), enc.encode('\nThe'), enc.encode(' end')];

const args = process.argv.slice(2);
const preopens = {};
while (args[0] === '--dir') { const [h, g] = args[1].split(':'); preopens[g || h] = h; args.splice(0, 2); }
const wasmPath = args[0];
let mem = null;
const E = { OK: 0, ARG: 1, ENC: 2, TOO_LARGE: 7, EOS: 100, CTX_FULL: 101, PROMPT_LONG: 102, NO_MODEL: 103 };

const view = () => new DataView(mem.buffer);
const inb = (p, n) => p >>> 0 === p && n >>> 0 === n && p + n <= mem.buffer.byteLength;
const u32 = (p) => view().getUint32(p, true);
const put32 = (p, v) => view().setUint32(p, v, true);
const str = (p, n) => Buffer.from(mem.buffer, p, n).toString('utf8');

const graphs = new Map(); let nextGraph = 1;
const ctxs = new Map(); let nextCtx = 1;

function applyConfig(g, text) {
  let cfg;
  try { cfg = JSON.parse(text); } catch { return E.ENC; }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) return E.ENC;
  const ints = ['n-predict', 'ctx-size', 'batch-size', 'threads', 'top-k', 'seed'];
  for (const [k0, v] of Object.entries(cfg)) {
    const k = k0.replaceAll('_', '-');
    if (ints.includes(k) && !Number.isInteger(v)) return E.ARG;
    if (['temp', 'top-p', 'min-p', 'repeat-penalty'].includes(k) && typeof v !== 'number') return E.ARG;
    if (['reverse-prompt'].includes(k) && typeof v !== 'string') return E.ARG;
    if (['embedding', 'enable-log', 'ignore-eos'].includes(k) && typeof v !== 'boolean') return E.ARG;
  }
  for (const [k0, v] of Object.entries(cfg)) g.cfg[k0.replaceAll('_', '-')] = v;
  return E.OK;
}

function output(c, idx, single, buf, max, wp) {
  if (!inb(buf, max) || !inb(wp, 4)) return E.ARG;
  let data;
  if (idx === 1) data = enc.encode(JSON.stringify({ input_tokens: c.inTok, output_tokens: c.outTok,
    llama_build_number: 1, llama_commit: 'fake' }).replaceAll(',', ', '));
  else data = single ? c.piece : c.text;
  put32(wp, data.length);
  if (data.length > max) return E.TOO_LARGE;
  new Uint8Array(mem.buffer, buf, data.length).set(data);
  return E.OK;
}

const LONG = [enc.encode('y'.repeat(3000))];

function generate(g, c, limit) {
  if (g.name === 'long') return { text: enc.encode('x'.repeat(40000)), n: 1 };
  const out = []; let n = 0; let end = E.EOS;
  for (const p of PIECES) { if (limit >= 0 && n >= limit) { end = 0; break; } out.push(...p); n++; }
  const stop = g.cfg['reverse-prompt'];
  let text = Uint8Array.from(out);
  if (stop) {
    const s = Buffer.from(text).indexOf(stop);
    if (s >= 0) { text = text.slice(0, s + enc.encode(stop).length); end = 0; }
  }
  if (end === E.EOS) text = Uint8Array.from([...text, ...bytes('</s>')]);
  return { text, n };
}

const nn = {
  load_by_name_with_config(np, nl, cp, cl, gp) {
    if (!inb(np, nl) || !inb(cp, cl) || !inb(gp, 4)) return E.ARG;
    const name = str(np, nl);
    if (!['default', 'embed', 'long'].includes(name)) return E.NO_MODEL;
    const g = { name, cfg: {} };
    if (cl) { const e = applyConfig(g, str(cp, cl)); if (e) return e; }
    graphs.set(nextGraph, g); put32(gp, nextGraph++);
    return E.OK;
  },
  load_by_name(np, nl, gp) { return nn.load_by_name_with_config(np, nl, 0, 0, gp); },
  load() { return 6; },
  init_execution_context(g, cp) {
    if (!inb(cp, 4)) return E.ARG;
    if (!graphs.has(g)) return E.ARG;
    ctxs.set(nextCtx, { g, text: new Uint8Array(), piece: new Uint8Array(), pos: -1, inTok: 0, outTok: 0 });
    put32(cp, nextCtx++);
    return E.OK;
  },
  set_input(ci, idx, tp) {
    const c = ctxs.get(ci); if (!c) return E.ARG;
    if (!inb(tp, 20)) return E.ARG;
    const [dp, dl, type, data, len] = [u32(tp), u32(tp + 4), u32(tp + 8), u32(tp + 12), u32(tp + 16)];
    if (!inb(dp, dl * 4) || !inb(data, len) || type !== 3) return E.ARG;
    const g = graphs.get(c.g);
    if (idx === 1) return applyConfig(g, str(data, len));
    c.prompt = str(data, len);
    if (c.prompt.length > 2000) return E.PROMPT_LONG;
    c.inTok = 1 + Math.ceil(len / 4); c.outTok = 0; c.pos = -1;
    return E.OK;
  },
  compute(ci) {
    const c = ctxs.get(ci); if (!c) return E.ARG;
    const g = graphs.get(c.g);
    if (g.cfg.embedding) {
      c.text = enc.encode(JSON.stringify({ n_embedding: 4, embedding: [0.5, -0.5, 0.5, -0.5] }));
      return E.OK;
    }
    const r = generate(g, c, g.cfg['n-predict'] ?? -1);
    c.text = r.text; c.outTok = r.n;
    return E.OK;
  },
  get_output(ci, idx, b, m, wp) { const c = ctxs.get(ci); return c ? output(c, idx, false, b, m, wp) : E.ARG; },
  compute_single(ci) {
    const c = ctxs.get(ci); if (!c) return E.ARG;
    c.pos++;
    const pieces = graphs.get(c.g).name === 'long' ? LONG : PIECES;
    if (c.pos >= pieces.length) return E.EOS;
    c.piece = pieces[c.pos]; c.outTok++;
    return E.OK;
  },
  get_output_single(ci, idx, b, m, wp) { const c = ctxs.get(ci); return c ? output(c, idx, true, b, m, wp) : E.ARG; },
  fini_single(ci) { const c = ctxs.get(ci); if (!c) return E.ARG; c.pos = -1; return E.OK; },
  unload(g) { return graphs.delete(g) ? E.OK : E.ARG; },
  finalize_execution_context(ci) { return ctxs.delete(ci) ? E.OK : E.ARG; },
};

const wasi = new WASI({ version: 'preview1', args, env: process.env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(wasmPath));
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module === 'wasi_ephemeral_nn' && !nn[imp.name]) {
    console.error(`fake_host: unknown import ${imp.module}.${imp.name}`);
    process.exit(3);
  }
}
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport, wasi_ephemeral_nn: nn });
mem = instance.exports.memory;
process.exitCode = wasi.start(instance);
