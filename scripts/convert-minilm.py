#!/usr/bin/env python3
"""Converts the upstream all-MiniLM-L6-v2 `model.safetensors` (sha256 53aa5117…,
pinned in shared/models/all-MiniLM-L6-v2/README.md) into an fp32 ONNX BERT encoder
with the upstream I/O: inputs input_ids, attention_mask, token_type_ids (int64
[batch, seq]); output last_hidden_state (float32 [batch, seq, 384]).

No torch: the graph is written node by node with `onnx.helper` (opset 17) and
the weights are copied bit for bit. The output is deterministic for a given
onnx version, so its SHA-256 is pinned in the native registry.

It also runs the same network in numpy (float64) on reference token ids and
writes mean-pooled, L2-normalised embeddings, an independent check of the graph.

usage: convert-minilm.py MODEL.safetensors OUT.onnx [TOKENS.json OUT_REF.json]
"""
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


def build(w):
    nodes, inits = [], []

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x, prefix, name):
        wt = init(f"{prefix}.weight_t", w[f"{prefix}.weight"].T)
        return node("Add", [node("MatMul", [x, wt], f"{name}_mm"), init(f"{prefix}.bias", w[f"{prefix}.bias"])], name)

    def layer_norm(x, prefix, name):
        return node("LayerNormalization", [x, init(f"{prefix}.weight", w[f"{prefix}.weight"]), init(f"{prefix}.bias", w[f"{prefix}.bias"])], name, axis=-1, epsilon=EPS)

    e = "embeddings"
    words = node("Gather", [init(f"{e}.word_embeddings.weight", w[f"{e}.word_embeddings.weight"]), "input_ids"], "words")
    types = node("Gather", [init(f"{e}.token_type_embeddings.weight", w[f"{e}.token_type_embeddings.weight"]), "token_type_ids"], "types")
    shape = node("Shape", ["input_ids"], "ids_shape")
    seq = node("Gather", [shape, init("one_1d", np.array([1], dtype=np.int64))], "seq_len")
    table = init(f"{e}.position_embeddings.weight", w[f"{e}.position_embeddings.weight"])
    pos = node("Slice", [table, init("zero_1d", np.array([0], dtype=np.int64)), seq, init("axis0_1d", np.array([0], dtype=np.int64))], "positions")
    summed = node("Add", [node("Add", [words, types], "words_types"), pos], "emb_sum")
    x = layer_norm(summed, f"{e}.LayerNorm", "emb_ln")

    # additive mask [batch, 1, 1, seq]: 0 where attended, -10000 where padded
    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inv = node("Sub", [init("one_f", np.array(1.0, dtype=np.float32)), mask_f], "mask_inv")
    add_mask = node("Mul", [inv, init("neg_f", np.array(-10000.0, dtype=np.float32))], "mask_add")
    add_mask = node("Unsqueeze", [add_mask, init("axes_12", np.array([1, 2], dtype=np.int64))], "mask_4d")
    split = init("split_shape", np.array([0, 0, HEADS, HEAD], dtype=np.int64))
    merge = init("merge_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    scale = init("scale", np.array(1.0 / np.sqrt(HEAD), dtype=np.float32))
    half = init("half", np.array(0.5, dtype=np.float32))
    sqrt2 = init("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))

    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        heads = {}
        for part in ("query", "key", "value"):
            t = node("Reshape", [linear(x, f"{p}.attention.self.{part}", f"l{i}_{part}"), split], f"l{i}_{part}_split")
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads[part] = node("Transpose", [t], f"l{i}_{part}_heads", perm=perm)
        scores = node("Mul", [node("MatMul", [heads["query"], heads["key"]], f"l{i}_qk"), scale], f"l{i}_scaled")
        probs = node("Softmax", [node("Add", [scores, add_mask], f"l{i}_masked")], f"l{i}_probs", axis=-1)
        ctx = node("MatMul", [probs, heads["value"]], f"l{i}_ctx")
        ctx = node("Reshape", [node("Transpose", [ctx], f"l{i}_ctx_t", perm=[0, 2, 1, 3]), merge], f"l{i}_ctx_merged")
        attn = linear(ctx, f"{p}.attention.output.dense", f"l{i}_attn_out")
        x = layer_norm(node("Add", [attn, x], f"l{i}_attn_res"), f"{p}.attention.output.LayerNorm", f"l{i}_attn_ln")
        h = linear(x, f"{p}.intermediate.dense", f"l{i}_inter")
        erf = node("Erf", [node("Div", [h, sqrt2], f"l{i}_gelu_div")], f"l{i}_gelu_erf")
        erf1 = node("Add", [erf, "one_f"], f"l{i}_gelu_add")
        gelu = node("Mul", [node("Mul", [h, half], f"l{i}_gelu_half"), erf1], f"l{i}_gelu")
        out = linear(gelu, f"{p}.output.dense", f"l{i}_out")
        x = layer_norm(node("Add", [out, x], f"l{i}_out_res"), f"{p}.output.LayerNorm", f"l{i}_out_ln" if i < LAYERS - 1 else "last_hidden_state")

    ints = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2", [ints("input_ids"), ints("attention_mask"), ints("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", HIDDEN])], inits,
    )
    model = helper.make_model(graph, producer_name="ruvector convert-minilm.py", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


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
    weights = load_safetensors(sys.argv[1])
    onnx.save(build(weights), sys.argv[2])
    if len(sys.argv) > 4:
        cases = json.load(open(sys.argv[3]))["cases"]
        ref = [{"text": c["text"], "embedding": numpy_forward(weights, c["input_ids"])} for c in cases]
        json.dump({"produced_with": "scripts/convert-minilm.py numpy float64 forward of model.safetensors", "cases": ref}, open(sys.argv[4], "w"))


if __name__ == "__main__":
    main()
