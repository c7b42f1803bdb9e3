"""The workloads that dev/gpu-traces.sh records the in-job sampler on (one per run):

    python dev/gpu_workloads.py WORKLOAD --seconds 40 --meta OUT.meta.json

starved  ResNet-50 bf16, batch 128, fed by a DataLoader with 3 workers doing PIL augmentation
         (RandomResizedCrop 224 + ColorJitter) of synthetic 256x256 images made in memory
fed      the same model on a batch already on the GPU
idle     the model on the GPU, a few training steps, then waiting (a sleep, as on a slow read)
small    a tiny MLP (784-256-10, batch 64) on the big GPU
cpu      CPU-only work (torch matmuls on the CPU) in a GPU job: no CUDA context at all
eval     fed training with an evaluation pass every 150 steps (DataLoader, 3 workers, no augmentation)
oom      fed training, then activations kept growing (4 GiB more every 0.25 s) until CUDA OOM

Nothing is downloaded (weights=None, synthetic data). Without CUDA (a dry run) the models are
shrunk and run on the CPU; without torchvision a small conv net and hand-made augmentation stand in.
The meta file: workload, t0/t1 (unix s), phases, throughput and its unit, device, versions, error.
"""

import argparse
import json
import os
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn as nn

try:
    import torchvision
    from torchvision import transforms as TV
except ImportError:  # dry run here
    torchvision = None
    TV = None
from PIL import Image

CUDA = torch.cuda.is_available()
DEV = torch.device("cuda" if CUDA else "cpu")
BATCH = 128 if CUDA else 8
SIZE = 224 if CUDA else 64
meta = {"phases": []}


def phase(name):
    now = time.time()
    if meta["phases"]:
        meta["phases"][-1]["t1"] = now
    meta["phases"].append({"phase": name, "t0": now})
    print("phase", name, flush=True)


def model():
    if torchvision is not None and CUDA:
        m = torchvision.models.resnet50(weights=None)
    else:
        m = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(16, 1000))
    return m.to(DEV, memory_format=torch.channels_last)


class Images(torch.utils.data.Dataset):
    """Synthetic 256x256 RGB images, made once in memory (workers inherit them by fork)."""

    def __init__(self, n, augment):
        rng = np.random.default_rng(0)
        side = 256 if CUDA else 80
        self.imgs = [Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(n)]
        if TV is not None:
            norm = [TV.ToTensor(), TV.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
            if augment:
                self.tf = TV.Compose([TV.RandomResizedCrop(SIZE), TV.RandomHorizontalFlip(),
                                      TV.ColorJitter(0.4, 0.4, 0.4)] + norm)
            else:
                self.tf = TV.Compose([TV.CenterCrop(SIZE)] + norm)
        else:
            def tf(img):
                a = np.asarray(img.resize((SIZE, SIZE)), dtype=np.float32) / 255.0
                if augment:
                    a = np.clip(a * rng.uniform(0.6, 1.4), 0, 1)
                return torch.from_numpy(a).permute(2, 0, 1).contiguous()
            self.tf = tf

    def __len__(self):
        return 100000

    def __getitem__(self, i):
        return self.tf(self.imgs[i % len(self.imgs)]), i % 1000


def loader(augment, workers=3):
    return torch.utils.data.DataLoader(Images(256, augment), batch_size=BATCH, shuffle=True, num_workers=workers,
                                       drop_last=True)


def train_setup():
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        with torch.autocast(DEV.type, dtype=torch.bfloat16):
            loss = loss_fn(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return m, step


def sync():
    if CUDA:
        torch.cuda.synchronize()


def run_starved(seconds):
    m, step = train_setup()
    data = loader(augment=True)
    phase("train")
    n, t0, end = 0, None, time.time() + seconds
    while time.time() < end:
        for x, y in data:
            x = x.to(DEV, non_blocking=True).to(memory_format=torch.channels_last)
            step(x, y.to(DEV, non_blocking=True))
            if t0 is None:
                sync()
                t0 = time.time()  # after the first batch (workers' start, cuDNN's choice)
            else:
                n += x.shape[0]
            if time.time() >= end:
                break
    sync()
    return n / (time.time() - t0), "images/s"


def fed_loop(step, seconds, on_step=None):
    x = torch.randn(BATCH, 3, SIZE, SIZE, device=DEV).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (BATCH,), device=DEV)
    for _ in range(3):
        step(x, y)
    sync()
    n, t0, end = 0, time.time(), time.time() + seconds
    while time.time() < end:
        step(x, y)
        n += 1
        if n % 10 == 0:
            sync()
        if on_step is not None:
            on_step(n)
    sync()
    return n * BATCH / (time.time() - t0), "images/s"


def run_fed(seconds):
    _m, step = train_setup()
    phase("train")
    return fed_loop(step, seconds)


def run_idle(seconds):
    _m, step = train_setup()
    phase("train")
    rate, unit = fed_loop(step, min(5.0, seconds / 8))
    phase("wait")
    time.sleep(seconds - min(5.0, seconds / 8))  # waiting on a slow read, a lock, input...
    return rate, unit + " (in the 5 s before the wait)"


def run_small(seconds):
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(DEV)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.randn(64, 784, device=DEV)
    y = torch.randint(0, 10, (64,), device=DEV)
    phase("train")
    n, t0, end = 0, time.time(), time.time() + seconds
    while time.time() < end:
        loss = nn.functional.cross_entropy(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        n += 1
        if n % 100 == 0:
            loss.item()  # the usual logging sync
    sync()
    return n / (time.time() - t0), "steps/s (batch 64)"


def run_cpu(seconds):
    torch.set_num_threads(4)
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    phase("compute")
    n, t0, end = 0, time.time(), time.time() + seconds
    while time.time() < end:
        a @ b
        n += 1
    assert not torch.cuda.is_initialized(), "the CPU workload made a CUDA context"
    return n * 2 * 1024 ** 3 / 1e9 / (time.time() - t0), "GFLOP/s (CPU, 4 threads)"


def run_eval(seconds, every=150, eval_batches=12):
    m, step = train_setup()
    val = loader(augment=False)

    def evaluate(n):
        if n % every:
            return
        phase("eval")
        m.eval()
        with torch.no_grad(), torch.autocast(DEV.type, dtype=torch.bfloat16):
            for k, (x, _y) in enumerate(val):
                m(x.to(DEV).to(memory_format=torch.channels_last)).float().argmax(1).cpu()
                if k + 1 >= eval_batches:
                    break
        m.train()
        phase("train")

    phase("train")
    rate, unit = fed_loop(step, seconds, on_step=evaluate)
    return rate, unit + " (evaluation passes included)"


def run_oom(seconds):
    _m, step = train_setup()
    phase("train")
    held = []

    def grow(n):
        if time.time() - meta["phases"][0]["t0"] > seconds / 2 and n % 2 == 0:
            if len(held) == 0:
                phase("grow")
            if not CUDA:  # a dry run: no card to fill
                raise RuntimeError("simulated out of memory (no CUDA)")
            held.append(torch.empty(4 << 30, dtype=torch.uint8, device=DEV))  # activations kept by mistake
            time.sleep(0.2)

    return fed_loop(step, seconds * 10, on_step=grow)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["starved", "fed", "idle", "small", "cpu", "eval", "oom"])
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--meta", required=True)
    a = p.parse_args()
    meta.update(workload=a.workload, t0=time.time(), pid=os.getpid(), argv=sys.argv,
                affinity=sorted(os.sched_getaffinity(0)), torch=torch.__version__,
                torchvision=getattr(torchvision, "__version__", None), cuda=CUDA, batch=BATCH, size=SIZE)
    if CUDA and a.workload != "cpu":
        meta["device"] = torch.cuda.get_device_name(0)
    rc = 0
    try:
        rate, unit = globals()["run_" + a.workload](a.seconds)
        meta.update(throughput=round(rate, 1), unit=unit)
    except BaseException as e:  # noqa: B902 - the OOM run ends here; recorded, then the exit code
        meta["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "")
        traceback.print_exc()
        rc = 1
    finally:
        meta["t1"] = time.time()
        if meta["phases"]:
            meta["phases"][-1]["t1"] = meta["t1"]
        if CUDA and torch.cuda.is_initialized():
            meta["max_memory_allocated_mib"] = torch.cuda.max_memory_allocated() // (1 << 20)
        with open(a.meta, "w") as f:
            json.dump(meta, f, indent=1)
        print("meta", json.dumps({k: meta.get(k) for k in ("workload", "throughput", "unit", "error")}), flush=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
