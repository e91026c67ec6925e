#!/usr/bin/env python3
"""Converts the upstream all-MiniLM-L6-v2 `model.safetensors` (sha256 53aa5117…,
pinned in shared/models/all-MiniLM-L6-v2/README.md) into an ONNX BERT encoder
with the upstream I/O: inputs input_ids, attention_mask, token_type_ids (int64
[batch, seq]); output last_hidden_state (float32 [batch, seq, 384]).

--graph picks the layout:
  padded        the upstream layout, every op on [batch, seq, 384] (fp32)
  padfree       per-token ops on the real tokens only (fp32; the default model)
  padfree-int8  padfree with dynamic int8 MatMuls (per-channel int8 weights)

No torch: the graph is written node by node with `onnx.helper` (opset 17); fp32
weights are copied bit for bit. The output is deterministic for a given onnx
version, so each graph's SHA-256 is pinned in the native registry.

It also runs the same network in numpy (float64) on reference token ids and
writes mean-pooled, L2-normalised embeddings, an independent check of the graph.

usage: convert-minilm.py [--graph padded|padfree|padfree-int8] MODEL.safetensors OUT.onnx [TOKENS.json OUT_REF.json]
"""
import argparse
import os
import json
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12
HEAD = HIDDEN // HEADS


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return out


class Graph:
    """Nodes and initializers of one ONNX graph; every helper returns its output's name."""

    def __init__(self, w):
        self.w, self.nodes, self.inits, self.names = w, [], [], set()

    def init(self, name, array):
        assert name not in self.names, name
        self.names.add(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def const(self, name, values):
        """An int64 constant, created on first use."""
        return name if name in self.names else self.init(name, np.array(values, dtype=np.int64))

    def index(self, name, value):
        """A 0-d int64 index (`init` would store it 1-d), created on first use."""
        if name not in self.names:
            self.names.add(name)
            self.inits.append(numpy_helper.from_array(np.array(value, dtype=np.int64), name))
        return name

    def layer_norm(self, x, prefix, name):
        w = self.w
        return self.node("LayerNormalization", [x, self.init(f"{prefix}.weight", w[f"{prefix}.weight"]), self.init(f"{prefix}.bias", w[f"{prefix}.bias"])], name, axis=-1, epsilon=EPS)

    def weight(self, prefixes):
        """The transposed [in, out] weight and the bias of one or more torch Linear layers, concatenated on out."""
        wt = np.concatenate([self.w[f"{p}.weight"].T for p in prefixes], axis=1)
        return wt, np.concatenate([self.w[f"{p}.bias"] for p in prefixes])

    def linear(self, x, prefixes, name, int8=False):
        wt, bias = self.weight(prefixes)
        key = prefixes[0] if len(prefixes) == 1 else prefixes[0].rsplit(".", 1)[0] + ".qkv"
        mm = self.int8_matmul(x, wt, key, name) if int8 else self.node("MatMul", [x, self.init(f"{key}.weight_t", wt)], f"{name}_mm")
        return self.node("Add", [mm, self.init(f"{key}.bias", bias)], name)

    def int8_matmul(self, x, wt, key, name):
        """Dynamic int8: activations quantized per tensor at run time (uint8), weights
        per output channel (symmetric int8), the ONNX pattern ONNX Runtime fuses into
        one DynamicQuantizeMatMul."""
        scale = np.abs(wt).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
        outs = [f"{name}_xq", f"{name}_xscale", f"{name}_xzero"]
        self.nodes.append(helper.make_node("DynamicQuantizeLinear", [x], outs, name=f"{name}_quant"))
        w_q = self.init(f"{key}.weight_t_int8", q)
        w_zero = self.init(f"{key}.weight_zero", np.zeros(q.shape[1], dtype=np.int8))
        acc = self.node("MatMulInteger", [outs[0], w_q, outs[2], w_zero], f"{name}_mmi")
        both = self.node("Mul", [outs[1], self.init(f"{key}.weight_scale", scale.astype(np.float32))], f"{name}_scale")
        return self.node("Mul", [self.node("Cast", [acc], f"{name}_acc_f", to=TensorProto.FLOAT), both], f"{name}_mm")

    def gelu(self, h, name):
        erf = self.node("Erf", [self.node("Div", [h, "sqrt2"], f"{name}_div")], f"{name}_erf")
        erf1 = self.node("Add", [erf, "one_f"], f"{name}_add")
        return self.node("Mul", [self.node("Mul", [h, "half"], f"{name}_half"), erf1], name)

    def attention_mask(self):
        """The additive mask [batch, 1, 1, seq]: 0 where attended, -10000 where padded."""
        mask_f = self.node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
        inv = self.node("Sub", [self.init("one_f", np.array(1.0, dtype=np.float32)), mask_f], "mask_inv")
        add_mask = self.node("Mul", [inv, self.init("neg_f", np.array(-10000.0, dtype=np.float32))], "mask_add")
        return self.node("Unsqueeze", [add_mask, self.const("axes_12", [1, 2])], "mask_4d")

    def scalars(self):
        """The attention scale and GELU's constants, used by name."""
        self.init("scale", np.array(1.0 / np.sqrt(HEAD), dtype=np.float32))
        self.init("half", np.array(0.5, dtype=np.float32))
        self.init("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))

    def attention_core(self, q, kt, v, add_mask, i):
        """softmax(q·kᵀ·scale + mask)·v on [batch, heads, seq, head] tensors."""
        scores = self.node("Mul", [self.node("MatMul", [q, kt], f"l{i}_qk"), "scale"], f"l{i}_scaled")
        probs = self.node("Softmax", [self.node("Add", [scores, add_mask], f"l{i}_masked")], f"l{i}_probs", axis=-1)
        return self.node("MatMul", [probs, v], f"l{i}_ctx")

    def feed_forward(self, x, p, i, out_name, int8=False):
        """Layer `i`'s FFN (intermediate, GELU, output) with its residual and LayerNorm."""
        gelu = self.gelu(self.linear(x, [f"{p}.intermediate.dense"], f"l{i}_inter", int8), f"l{i}_gelu")
        out = self.linear(gelu, [f"{p}.output.dense"], f"l{i}_out", int8)
        return self.layer_norm(self.node("Add", [out, x], f"l{i}_out_res"), f"{p}.output.LayerNorm", out_name)

    def model(self, name):
        ints = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
        graph = helper.make_graph(
            self.nodes, name, [ints("input_ids"), ints("attention_mask"), ints("token_type_ids")],
            [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", HIDDEN])], self.inits,
        )
        model = helper.make_model(graph, producer_name="ruvector convert-minilm.py", opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def build_padded(w):
    """The upstream layout: every op on the padded [batch, seq, 384] tensor."""
    g = Graph(w)
    e = "embeddings"
    words = g.node("Gather", [g.init(f"{e}.word_embeddings.weight", w[f"{e}.word_embeddings.weight"]), "input_ids"], "words")
    types = g.node("Gather", [g.init(f"{e}.token_type_embeddings.weight", w[f"{e}.token_type_embeddings.weight"]), "token_type_ids"], "types")
    seq = g.node("Gather", [g.node("Shape", ["input_ids"], "ids_shape"), g.const("one_1d", [1])], "seq_len")
    table = g.init(f"{e}.position_embeddings.weight", w[f"{e}.position_embeddings.weight"])
    pos = g.node("Slice", [table, g.const("zero_1d", [0]), seq, g.const("axis0_1d", [0])], "positions")
    summed = g.node("Add", [g.node("Add", [words, types], "words_types"), pos], "emb_sum")
    x = g.layer_norm(summed, f"{e}.LayerNorm", "emb_ln")
    add_mask = g.attention_mask()
    split = g.const("split_shape", [0, 0, HEADS, HEAD])
    merge = g.const("merge_shape", [0, 0, HIDDEN])
    g.scalars()
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        heads = {}
        for part in ("query", "key", "value"):
            t = g.node("Reshape", [g.linear(x, [f"{p}.attention.self.{part}"], f"l{i}_{part}"), split], f"l{i}_{part}_split")
            heads[part] = g.node("Transpose", [t], f"l{i}_{part}_heads", perm=[0, 2, 3, 1] if part == "key" else [0, 2, 1, 3])
        ctx = g.attention_core(heads["query"], heads["key"], heads["value"], add_mask, i)
        ctx = g.node("Reshape", [g.node("Transpose", [ctx], f"l{i}_ctx_t", perm=[0, 2, 1, 3]), merge], f"l{i}_ctx_merged")
        attn = g.linear(ctx, [f"{p}.attention.output.dense"], f"l{i}_attn_out")
        x = g.layer_norm(g.node("Add", [attn, x], f"l{i}_attn_res"), f"{p}.attention.output.LayerNorm", f"l{i}_attn_ln")
        x = g.feed_forward(x, p, i, f"l{i}_out_ln" if i < LAYERS - 1 else "last_hidden_state")
    return g.model("all-MiniLM-L6-v2")


def build_padfree(w, int8=False):
    """The same encoder with every per-token op (embeddings, projections, residuals,
    LayerNorms, FFN) on the real tokens only, gathered by the attention mask into
    [T, 384]; only the attention core runs on the padded [batch, heads, seq, 32]
    layout. Same inputs and output as the upstream graph (padded rows are zero)."""
    g = Graph(w)
    e = "embeddings"
    flat = g.const("flat_shape", [-1])
    mask_flat = g.node("Reshape", ["attention_mask", flat], "mask_flat")
    tokens = g.node("Reshape", [g.node("NonZero", [mask_flat], "real_nz"), flat], "real_tokens")  # [T] flat positions
    token_col = g.node("Unsqueeze", [tokens, g.const("axis_last", [-1])], "real_tokens_col")  # [T, 1] for ScatterND
    ids_shape = g.node("Shape", ["input_ids"], "ids_shape")
    seq = g.node("Gather", [ids_shape, g.index("one_0d", 1)], "seq_len")
    gather_tokens = lambda src, name: g.node("Gather", [g.node("Reshape", [src, flat], f"{name}_flat"), tokens], name)
    ids, type_ids = gather_tokens("input_ids", "real_ids"), gather_tokens("token_type_ids", "real_type_ids")
    positions = g.node("Mod", [tokens, seq], "real_positions")
    table = lambda part: g.init(f"{e}.{part}.weight", w[f"{e}.{part}.weight"])
    words = g.node("Gather", [table("word_embeddings"), ids], "words")
    types = g.node("Gather", [table("token_type_embeddings"), type_ids], "types")
    pos = g.node("Gather", [table("position_embeddings"), positions], "positions")
    summed = g.node("Add", [g.node("Add", [words, types], "words_types"), pos], "emb_sum")
    x = g.layer_norm(summed, f"{e}.LayerNorm", "emb_ln")
    add_mask = g.attention_mask()
    g.scalars()
    padded_rows = g.node("Shape", [mask_flat], "padded_rows")  # [batch * seq]

    def scatter(t, width, name):
        """[T, width] real-token rows into a zero [batch * seq, width] tensor."""
        zeros = g.node("ConstantOfShape", [g.node("Concat", [padded_rows, g.const(f"width_{width}", [width])], f"{name}_shape", axis=0)], f"{name}_zeros")
        return g.node("ScatterND", [zeros, token_col, t], name)

    qkv_shape = g.node("Concat", [ids_shape, g.const("qkv_split", [3, HEADS, HEAD])], "qkv_shape", axis=0)
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        a = f"{p}.attention.self"
        qkv = g.linear(x, [f"{a}.query", f"{a}.key", f"{a}.value"], f"l{i}_qkv", int8)
        qkv = g.node("Reshape", [scatter(qkv, 3 * HIDDEN, f"l{i}_qkv_padded"), qkv_shape], f"l{i}_qkv_split")  # [b, s, 3, h, d]
        part = lambda k, perm, n: g.node("Transpose", [g.node("Gather", [qkv, g.index(f"part_{k}", k)], f"l{i}_{n}", axis=2)], f"l{i}_{n}_heads", perm=perm)
        q, kt, v = part(0, [0, 2, 1, 3], "query"), part(1, [0, 2, 3, 1], "key"), part(2, [0, 2, 1, 3], "value")
        ctx = g.node("Transpose", [g.attention_core(q, kt, v, add_mask, i)], f"l{i}_ctx_t", perm=[0, 2, 1, 3])
        ctx = g.node("Gather", [g.node("Reshape", [ctx, g.const("rows_shape", [-1, HIDDEN])], f"l{i}_ctx_rows"), tokens], f"l{i}_ctx_real")
        attn = g.linear(ctx, [f"{p}.attention.output.dense"], f"l{i}_attn_out", int8)
        x = g.layer_norm(g.node("Add", [attn, x], f"l{i}_attn_res"), f"{p}.attention.output.LayerNorm", f"l{i}_attn_ln")
        x = g.feed_forward(x, p, i, f"l{i}_out_ln" if i < LAYERS - 1 else "hidden_tokens", int8)
    out_shape = g.node("Concat", [ids_shape, g.const("hidden_1d", [HIDDEN])], "out_shape", axis=0)
    g.node("Reshape", [scatter(x, HIDDEN, "hidden_padded"), out_shape], "last_hidden_state")
    return g.model("all-MiniLM-L6-v2" + ("-int8" if int8 else ""))


GRAPHS = {"padded": build_padded, "padfree": build_padfree, "padfree-int8": lambda w: build_padfree(w, int8=True)}


def numpy_forward(w, ids):
    """The same encoder in float64 numpy, for one unpadded sequence; mean-pooled, normalised."""
    f = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    ln = lambda v, p: (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + EPS) * f[f"{p}.weight"] + f[f"{p}.bias"]
    lin = lambda v, p: v @ f[f"{p}.weight"].T + f[f"{p}.bias"]
    erf = np.vectorize(__import__("math").erf)
    ids = np.array(ids)
    x = f["embeddings.word_embeddings.weight"][ids] + f["embeddings.token_type_embeddings.weight"][0] + f["embeddings.position_embeddings.weight"][: len(ids)]
    x = ln(x, "embeddings.LayerNorm")
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        q, k, v = (lin(x, f"{p}.attention.self.{n}").reshape(len(ids), HEADS, HEAD).transpose(1, 0, 2) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(HEAD)
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = (s / s.sum(-1, keepdims=True)) @ v
        x = ln(lin(ctx.transpose(1, 0, 2).reshape(len(ids), HIDDEN), f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    m = x.mean(0)
    return (m / np.linalg.norm(m)).tolist()


def main():
    args = argparse.ArgumentParser(description="all-MiniLM-L6-v2 safetensors to ONNX")
    args.add_argument("--graph", choices=sorted(GRAPHS), default="padded")
    args.add_argument("safetensors")
    args.add_argument("out")
    args.add_argument("reference", nargs="*", metavar="TOKENS.json OUT_REF.json")
    a = args.parse_args()
    if len(a.reference) not in (0, 2):
        args.error("give both TOKENS.json and OUT_REF.json, or neither")
    weights = load_safetensors(a.safetensors)
    temp = f"{a.out}.tmp-{os.getpid()}"
    onnx.save(GRAPHS[a.graph](weights), temp)
    os.replace(temp, a.out)
    if a.reference:
        cases = json.load(open(a.reference[0]))["cases"]
        ref = [{"text": c["text"], "embedding": numpy_forward(weights, c["input_ids"])} for c in cases]
        json.dump({"produced_with": "scripts/convert-minilm.py numpy float64 forward of model.safetensors", "cases": ref}, open(a.reference[1], "w"))


if __name__ == "__main__":
    main()
