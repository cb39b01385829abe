"""The survey's Fig. 6: how gradient, DeconvNet and guided backprop pass a signal back
through one ReLU, computed by the project's own methods on a small numeric example.

The network is y = ReLU(x) followed by a bias-free linear score S = sum(W * y), so
the signal arriving at the ReLU from above is exactly W. The survey's rules
(survey.txt lines 503-507 and 534-538) then read, elementwise:

- gradient (backpropagation): W where the forward input x > 0, else 0;
- DeconvNet: W where the backward signal W > 0, else 0 (the ReLU applied backwards);
- guided backpropagation: both conditions, W where x > 0 and W > 0.

:func:`backward_signals` runs ``common.explain`` on this network, so the figure
shows what the registry's hooks do, not a hand-written copy of the rules.
"""

from __future__ import annotations

import torch
from torch import nn

from common.explain import explain

RULES = {"gradient": "backpropagation", "deconvnet": "DeconvNet",
         "guided_backprop": "guided backpropagation"}

#: Forward input of the ReLU and the signal arriving from above: signs mixed in every
#: combination, as in the survey's illustration (its numbers are only in the figure).
FORWARD_INPUT = torch.tensor([[1.0, -1.0, 5.0, 2.0],
                              [2.0, -5.0, -7.0, 3.0],
                              [-3.0, 2.0, 4.0, -1.0],
                              [4.0, 1.0, -2.0, -6.0]])
SIGNAL_FROM_ABOVE = torch.tensor([[-2.0, 3.0, -1.0, 1.0],
                                  [6.0, -3.0, 1.0, -4.0],
                                  [2.0, -1.0, 3.0, 5.0],
                                  [-4.0, 2.0, 4.0, 1.0]])


def relu_network(signal: torch.Tensor) -> nn.Module:
    """ReLU, then the score sum(signal * ReLU(x)): its backward signal at the ReLU is ``signal``."""
    score = nn.Linear(signal.numel(), 1, bias=False)
    with torch.no_grad():
        score.weight.copy_(signal.reshape(1, -1))
    return nn.Sequential(nn.ReLU(), nn.Flatten(), score).eval()


def backward_signals(x: torch.Tensor = FORWARD_INPUT,
                     signal: torch.Tensor = SIGNAL_FROM_ABOVE) -> dict[str, torch.Tensor]:
    """What each rule passes back to the ReLU's input, (H, W) per rule name."""
    network = relu_network(signal)
    image = x.reshape(1, 1, *x.shape)
    return {method: explain(network, image, 0, method)[0, 0] for method in RULES}
