#!/usr/bin/env python3
"""Reference loss and gradients of the leaky RNN, computed with PyTorch autograd.

Written against PyTorch 1.13.1 (Debian 12's python3-torch 1.13.1+dfsg-4,
whose torch.__version__ reads "1.13.0a0", as the JSON records) and NumPy
1.24.2; run with the system interpreter:

    /usr/bin/python3 core/testdata/torch_crosscheck.py > core/testdata/torch_crosscheck.json

For each case it draws weights, inputs (noise included), recurrent noise,
targets and a cost mask from a seeded NumPy generator, computes in float64

    z_t = x_t @ Win + r_{t-1} @ Wrec + Brec + noise_t,   r_{-1} = 0
    r_t = (1 - alpha) * r_{t-1} + alpha * f(z_t)
    y_t = sigmoid(r_t @ Wout + Bout)
    loss = mean(((y - target) * mask) ** 2)   over all T*B*nOut entries

and writes every input, the loss and the gradient of every parameter as JSON.
Arrays are flattened row-major; activations are time-major, row t*B + b.
Softplus is log(1 + e^z) computed as logaddexp(z, 0), without the linear
cut-off that torch.nn.functional.softplus applies above z = 20.
"""

import json
import sys

import numpy as np
import torch


def case(seed, activation, n_in, n, n_out, t, b, alpha=0.2):
    rng = np.random.default_rng(seed)
    win = rng.normal(0, 1, (n_in, n)) / np.sqrt(n_in)
    wrec = 0.5 * np.eye(n) + 0.3 * rng.normal(0, 1, (n, n))
    brec = 0.3 * rng.normal(0, 1, n) - 0.1
    wout = rng.uniform(-1, 1, (n, n_out))
    bout = 0.2 * rng.normal(0, 1, n_out)
    x = rng.uniform(0, 1, (t, b, n_in)) + 0.03 * rng.normal(0, 1, (t, b, n_in))
    noise = 0.16 * rng.normal(0, 1, (t, b, n))
    target = 0.05 + 0.8 * rng.uniform(0, 1, (t, b, n_out))
    mask = rng.choice([0.0, 1.0, 5.0], size=(t, b, n_out))
    mask[:, :, 0] *= 2

    params = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for name, v in [("Win", win), ("Wrec", wrec), ("Brec", brec), ("Wout", wout), ("Bout", bout)]}
    tx = torch.tensor(x, dtype=torch.float64)
    tnoise = torch.tensor(noise, dtype=torch.float64)
    act = (lambda z: torch.logaddexp(z, torch.zeros_like(z))) if activation == "softplus" else torch.relu

    r = torch.zeros(b, n, dtype=torch.float64)
    ys = []
    for step in range(t):
        z = tx[step] @ params["Win"] + r @ params["Wrec"] + params["Brec"] + tnoise[step]
        r = (1 - alpha) * r + alpha * act(z)
        ys.append(torch.sigmoid(r @ params["Wout"] + params["Bout"]))
    y = torch.stack(ys)
    loss = (((y - torch.tensor(target)) * torch.tensor(mask)) ** 2).mean()
    loss.backward()

    flat = lambda a: [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]
    return {
        "activation": activation, "alpha": alpha,
        "n_in": n_in, "n": n, "n_out": n_out, "t": t, "b": b,
        "params": {k: flat(v.detach().numpy()) for k, v in params.items()},
        "x": flat(x), "noise": flat(noise), "target": flat(target), "mask": flat(mask),
        "loss": float(loss.item()),
        "grads": {k: flat(v.grad.numpy()) for k, v in params.items()},
    }


def main():
    out = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cases": [
            case(1, "softplus", 85, 8, 33, 9, 3),
            case(2, "relu", 85, 8, 33, 9, 3),
        ],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
