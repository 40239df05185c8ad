#!/usr/bin/python3
"""Writes tiny.pth (a torch.save'd state dict) and tiny_pth.json (an input,
the model's eval-mode output, and one training-mode forward/backward) for
nn/import_pth_test.go. The model mirrors
tinyNet in nn_test.go:

    conv1 (3->4, 3x3, pad 1, no bias), bn1, relu,
    layer1 = Sequential(Conv2d(4, 4, 3, pad 1, bias), BatchNorm2d(4), ReLU),
    adaptive avg pool 1x1, fc Linear(4, 2)

Run with Debian's python3 (torch 1.13): /usr/bin/python3 gen_tiny_pth.py
"""
import json

import torch
import torch.nn as nn

torch.manual_seed(7)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


m = Tiny()
# Non-trivial running statistics and affine parameters.
for bn in (m.bn1, m.layer1[1]):
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    bn.num_batches_tracked.fill_(3)
m.eval()
x = torch.randn(2, 3, 6, 5)
with torch.no_grad():
    y = m(x)
torch.save(m.state_dict(), "tiny.pth")

# One training-mode step from the same weights: output, the gradients of
# sum(out * r) and the updated running statistics.
m.train()
out = m(x)
r = torch.randn_like(out)
(out * r).sum().backward()
grads = {k: v.grad.reshape(-1).tolist() for k, v in m.named_parameters()}
with open("tiny_pth.json", "w") as f:
    json.dump({"x": x.reshape(-1).tolist(), "x_shape": list(x.shape), "y": y.reshape(-1).tolist(),
               "train_y": out.detach().reshape(-1).tolist(), "r": r.reshape(-1).tolist(), "grads": grads,
               "running_mean_after": m.bn1.running_mean.tolist()}, f)
    f.write("\n")
