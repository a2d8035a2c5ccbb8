"""gradwise: neural networks from scratch on NumPy, and a doctor for the ones that do not learn.

    import gradwise as gw
    model = gw.Sequential([gw.Dense(784, 256), gw.ReLU(), gw.Dense(256, 10)])
    model.fit(X, y, epochs=10, batch_size=128, optimizer=gw.Adam(1e-3), seed=0)
"""

from .version import __version__  # noqa: E402

from . import callbacks, checkpoint, data, functional, gradcheck, init, metrics, optim  # noqa: E402
from .callbacks import (Callback, EarlyStopping, History, LambdaCallback, LivePlot,  # noqa: E402
                        ModelCheckpoint, Progress)
from .checkpoint import Checkpoint  # noqa: E402
from .conv import AvgPool2D, BatchNorm, Conv2D, GlobalAvgPool2D, MaxPool2D  # noqa: E402
from .errors import DataError, GradwiseError, ModelFileError  # noqa: E402
from .layers import (Dense, Dropout, Flatten, Identity, Layer, LeakyReLU, ReLU, Sigmoid,  # noqa: E402
                     Softmax, Tanh)
from .losses import MSE, BinaryCrossEntropy, Loss, SoftmaxCrossEntropy  # noqa: E402
from .model import Sequential, TrainingDiverged  # noqa: E402
from .presets import mlp  # noqa: E402
from .recurrent import LSTM, RNN  # noqa: E402
from .sequence import (GELU, CausalSelfAttention, Embedding, LayerNorm,  # noqa: E402
                       PositionalEmbedding, TransformerBlock)
from .optim import (SGD, AdamW, Adam, CosineDecay, ExponentialDecay, LinearWarmup,  # noqa: E402
                    Optimizer, RMSprop, StepDecay, clip_grad_norm)

__all__ = [
    "Sequential", "mlp", "Layer", "Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax",
    "Identity", "Dropout", "Flatten", "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
    "BatchNorm", "RNN", "LSTM", "Embedding", "PositionalEmbedding", "LayerNorm", "GELU",
    "CausalSelfAttention", "TransformerBlock", "Loss", "SoftmaxCrossEntropy", "MSE", "BinaryCrossEntropy",
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "StepDecay", "ExponentialDecay",
    "CosineDecay", "LinearWarmup", "clip_grad_norm", "Callback", "History", "Progress", "LivePlot",
    "EarlyStopping", "Checkpoint", "ModelCheckpoint", "LambdaCallback", "GradwiseError", "DataError",
    "ModelFileError", "TrainingDiverged", "callbacks", "checkpoint", "data", "functional", "gradcheck",
    "init", "metrics", "optim", "__version__",
]
