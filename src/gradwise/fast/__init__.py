"""Compiled twins of the layer methods and optimiser updates that have one.

The methods in gradwise.layers, gradwise.conv and gradwise.optim are the NumPy reference,
written to be read. Each that has a faster variant asks once, before its math, and hands
over to it here, as PyTorch's optimisers hand over to their foreach and fused variants:

    def forward(self, x, training=False):
        if runtime.use_kernels(x) and fast.relu_fits(x):
            return fast.relu_forward(self, x)
        self.mask = x > 0
        return np.maximum(x, 0)

A twin computes the same numbers (the tests hold each to its reference, in float64) with
the numba loops of gradwise.kernels, in the memory layouts those loops walk fastest, and
keeps the same state on the layer (masks, patches, positions of maxima), so a forward pass
on one path and the backward pass on the other agree. The ``*_fits`` functions say which
inputs a twin takes (sizes, layouts); the rest go to NumPy.

| reference              | twin                                      | module      |
| ---------------------- | ----------------------------------------- | ----------- |
| ReLU                   | relu_forward, relu_backward               | fast.layers |
| Conv2D                 | conv2d_forward, conv2d_backward           | fast.conv   |
| MaxPool2D              | maxpool2d_forward, maxpool2d_backward     | fast.conv   |
| BatchNorm              | batchnorm_forward, batchnorm_backward     | fast.conv   |
| SGD (momentum), Adam/W | sgd_momentum_update, adam_update          | fast.optim  |

Off: ``gradwise.runtime.settings.kernels = False`` at any time, or ``GRADWISE_NO_NUMBA=1`` in
the environment before gradwise is imported (or numba not installed).
"""

from .conv import (batchnorm_backward, batchnorm_fits, batchnorm_forward, conv2d_backward,
                   conv2d_forward, maxpool2d_backward, maxpool2d_fits, maxpool2d_forward)
from .layers import relu_backward, relu_fits, relu_forward
from .optim import adam_update, sgd_momentum_update, update_fits

__all__ = ["adam_update", "batchnorm_backward", "batchnorm_fits", "batchnorm_forward",
           "conv2d_backward", "conv2d_forward", "maxpool2d_backward", "maxpool2d_fits",
           "maxpool2d_forward", "relu_backward", "relu_fits", "relu_forward",
           "sgd_momentum_update", "update_fits"]
