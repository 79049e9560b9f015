"""Reference training runs for test/engine/optim/train.test.ts.

Two small models, trained 20 AdamW steps in float32 from a fixed initialisation:
  - mlp:   Linear(8, 32) -> GELU -> Linear(32, 4), cross-entropy with ignore_index=-100
           (also trained with SGD + momentum + global-norm clipping: mlp_sgd)
  - block: one pre-LN transformer block (causal 2-head attention, GELU MLP) + a linear head,
           cross-entropy over every token
The initial parameters, the data and the loss at every step are written to
test/fixtures/train/<name>.safetensors, so the TypeScript engine can replay the same run.

Run with Debian's torch: /usr/bin/python3 tools/reference/train_fixtures.py
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import write_safetensors

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'train')
STEPS = 20


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """x + attn(ln_1(x)), then x + mlp(ln_2(x)); attention with a packed qkv projection."""

    def __init__(self, d=16, heads=2, classes=5):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.ln_1(x)).split(d, dim=-1)
        q, k, v = (z.reshape(b, t, self.heads, hd).transpose(1, 2) for z in (q, k, v))
        mask = torch.full((t, t), float('-inf')).triu(1)
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd) + mask, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln_2(x))))
        return self.head(x)


def run(name, model, x, y, lr, optimizer='adamw'):
    init = {f'param.{k}': v.clone() for k, v in model.state_dict().items()}
    if optimizer == 'adamw':
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    else:  # SGD with momentum and coupled weight decay, gradients clipped to global norm 0.5
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-3)
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        loss.backward()
        if optimizer == 'sgd':
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        losses.append(loss.item())
    tensors = dict(init, x=x, y=y.to(torch.int32), losses=torch.tensor(losses, dtype=torch.float64))
    if norms:
        tensors['grad_norms'] = torch.tensor(norms, dtype=torch.float64)
    write_safetensors(os.path.join(OUT, f'{name}.safetensors'), tensors,
         {'steps': str(STEPS), 'optimizer': optimizer, 'lr': repr(lr), 'weight_decay': '0.01', 'betas': '0.9,0.999', 'eps': '1e-8'})
    print(f'{name}: loss {losses[0]:.5f} -> {losses[-1]:.5f}')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(16, 8)
    y = torch.randint(0, 4, (16,))
    y[3] = -100  # an ignored target
    run('mlp', MLP(), x, y, lr=1e-2)
    torch.manual_seed(0)
    run('mlp_sgd', MLP(), x, y, lr=0.1, optimizer='sgd')
    torch.manual_seed(1)
    x = torch.randn(2, 6, 16)
    y = torch.randint(0, 5, (2, 6))
    run('block', Block(), x, y, lr=2e-3)


if __name__ == '__main__':
    main()
