"""A CPU PyTorch training that waits for its data: a slow Dataset (30 ms per sample, no workers), a
tiny model. Run with --profile torch by test_profile_live.py and ui-tests/tests/profile.spec.ts."""
import time

import torch

torch.set_num_threads(1)


class Slow(torch.utils.data.Dataset):
    def __len__(self):
        return 4096

    def __getitem__(self, i):
        time.sleep(0.03)
        return torch.randn(32), i % 4


model = torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.ReLU(), torch.nn.Linear(256, 4))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step, (x, y) in enumerate(torch.utils.data.DataLoader(Slow(), batch_size=8)):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step == 14:
        break
print("trained", step)
