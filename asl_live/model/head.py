"""The last layer of a TFLite sign model: find it, read the embedding it is given, replace it.

A model made by `asl-train export` ends in

    embedding [1, D] -> FULLY_CONNECTED (weights [C, D], bias [C]) -> SOFTMAX [1, C]
    -> STRIDED_SLICE / RESHAPE -> outputs [C]

`Embedder` runs the model and reads the FULLY_CONNECTED layer's input (the sequence's
embedding). `replace_head` writes a copy of the flatbuffer whose last layer has new
weights and a new number of classes: the same graph otherwise, byte for byte, so no
TensorFlow and no converter is needed (`ai_edge_litert` ships the TFLite schema).
A model that does not end this way (an ensemble, a quantised last layer) raises a
UserError that says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, ROWS_PER_FRAME
from asl_live.model.runtime import SIGNATURE, interpreter_class

_PASS_THROUGH = ("STRIDED_SLICE", "RESHAPE", "SQUEEZE")   # shape-only ops between softmax and output


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _opname(schema, model, op) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    value = max(code.builtinCode, code.deprecatedBuiltinCode)
    for name, v in vars(schema.BuiltinOperator).items():
        if v == value and not name.startswith("_"):
            return name
    return str(value)


class _Last:
    """Where the last layer is in an unpacked model (`schema.ModelT`)."""

    def __init__(self, model, what: str):
        schema = _schema()
        g = model.subgraphs[0]
        producer = {t: i for i, op in enumerate(g.operators) for t in op.outputs}
        sig = [s for s in model.signatureDefs or [] if (s.signatureKey or b"").decode() == SIGNATURE]
        outs = sig[0].outputs if sig else []
        if len(outs) != 1:
            raise UserError(f"{what}: cannot be extended: it has no single '{SIGNATURE}' output")
        tensor = outs[0].tensorIndex
        chain = []   # the ops from the softmax to the output (their outputs change shape)
        while tensor in producer and _opname(schema, model, g.operators[producer[tensor]]) in _PASS_THROUGH:
            chain.append(producer[tensor])
            tensor = g.operators[producer[tensor]].inputs[0]
        ok = tensor in producer and _opname(schema, model, g.operators[producer[tensor]]) == "SOFTMAX"
        if ok:
            chain.append(producer[tensor])
            tensor = g.operators[producer[tensor]].inputs[0]
            ok = tensor in producer and _opname(schema, model, g.operators[producer[tensor]]) == "FULLY_CONNECTED"
        if not ok:
            raise UserError(f"{what}: cannot be extended: its output is not one softmax layer over a fully "
                            "connected one (an ensemble, or a model made elsewhere)")
        self.fc = g.operators[producer[tensor]]
        self.chain = [g.operators[i] for i in chain]
        self.embedding, self.weights, self.bias = self.fc.inputs[0], self.fc.inputs[1], self.fc.inputs[2]
        w = g.tensors[self.weights]
        if w.type != schema.TensorType.FLOAT32 or self.weights in producer or self.bias < 0 \
                or g.tensors[self.bias].type != schema.TensorType.FLOAT32:
            raise UserError(f"{what}: cannot be extended: its last layer is not a plain float32 one "
                            "(a quantised model?)")
        self.classes, self.dim = int(w.shape[0]), int(w.shape[1])


class Embedder:
    """`embedder(frames) -> float32[D]`: the model's own embedding of one sequence.

    Runs a copy of the model without its last layer (`without_head`), whose output is the
    embedding: one ordinary invoke, as fast as a classification."""

    def __init__(self, model_path):
        blob, self.kernel, self.bias = without_head(Path(model_path).read_bytes(), str(model_path))
        self.dim = self.kernel.shape[0]
        self._run = interpreter_class()(model_content=blob).get_signature_runner(SIGNATURE)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, np.float32).reshape(-1, ROWS_PER_FRAME, DIMS)
        return np.asarray(next(iter(self._run(inputs=frames).values())), np.float32).reshape(-1)


def without_head(blob: bytes, what: str = "the model") -> tuple[bytes, np.ndarray, np.ndarray]:
    """(the model cut before its last layer, whose output is the embedding [1, D]; that layer's
    kernel [D, C]; its bias [C])."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    last = _Last(model, what)
    g = model.subgraphs[0]

    def constant(index: int) -> np.ndarray:
        t = g.tensors[index]
        data = model.buffers[t.buffer].data
        return np.frombuffer(bytes(bytearray(data)), "<f4").reshape(tuple(int(d) for d in t.shape)).copy()

    kernel, bias = constant(last.weights).T.copy(), constant(last.bias)
    dropped = {id(op) for op in [last.fc, *last.chain]}
    g.operators = [op for op in g.operators if id(op) not in dropped]
    g.outputs = np.array([last.embedding], np.int32)
    for sig in model.signatureDefs:
        if (sig.signatureKey or b"").decode() == SIGNATURE:
            sig.outputs[0].tensorIndex = last.embedding
    builder = flatbuffers.Builder(len(blob) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), kernel, bias


def replace_head(blob: bytes, kernel: np.ndarray, bias: np.ndarray) -> bytes:
    """A copy of the model `blob` whose last layer is `x @ kernel + bias` (kernel [D, C], bias [C])."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    last = _Last(model, "the model")
    kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
    if kernel.shape[0] != last.dim or bias.shape != (kernel.shape[1],):
        raise ValueError(f"head {kernel.shape}/{bias.shape} does not fit an embedding of {last.dim}")
    c = kernel.shape[1]
    g = model.subgraphs[0]

    def new_buffer(array: np.ndarray) -> int:
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(array, "<f4").tobytes(), np.uint8)
        model.buffers.append(buf)
        return len(model.buffers) - 1

    # New buffers (never shared with another tensor), TFLite's weight layout [C, D].
    for index, array in ((last.weights, kernel.T), (last.bias, bias)):
        t = g.tensors[index]
        t.buffer = new_buffer(array)
        t.shape = np.array(array.shape, np.int32)
        if t.shapeSignature is not None:
            t.shapeSignature = np.array(array.shape, np.int32)
    for op in [last.fc, *last.chain]:
        for index in op.outputs:
            t = g.tensors[index]
            for field in ("shape", "shapeSignature"):
                dims = getattr(t, field)
                if dims is not None and len(dims) and int(dims[-1]) == last.classes:
                    dims = np.array(dims, np.int32)
                    dims[-1] = c
                    setattr(t, field, dims)
        if _opname(schema, model, op) == "RESHAPE" and len(op.inputs) > 1 and op.inputs[1] >= 0:
            shape_t = g.tensors[op.inputs[1]]   # a constant new shape that names the class count
            data = model.buffers[shape_t.buffer].data
            if data is not None and len(data):
                dims = np.frombuffer(bytes(bytearray(data)), "<i4").copy()
                dims[dims == last.classes] = c
                shape_t.buffer = len(model.buffers)
                model.buffers.append(schema.BufferT())
                model.buffers[-1].data = np.frombuffer(dims.tobytes(), np.uint8)
    builder = flatbuffers.Builder(len(blob) + kernel.nbytes + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def check_extendable(model_path) -> None:
    """UserError (one line) unless the model ends in a layer that `replace_head` can replace."""
    blob = Path(model_path).read_bytes()
    try:
        model = _schema().ModelT.InitFromPackedBuf(blob, 0)
    except Exception:  # the flatbuffer reader raises anything on a file that is not a model
        raise UserError(f"{model_path}: not a TFLite model") from None
    _Last(model, str(model_path))
