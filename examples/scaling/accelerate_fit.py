"""
One fit over several processes with Hugging Face Accelerate
============================================================

``accelerator=`` trains an estimator through Accelerate: started with ``accelerate launch``,
every process trains a replica on its share of each batch and the gradients are averaged
(data parallel), so all replicas hold the same weights after every step. On two CPU
processes::

    accelerate launch --cpu --num_processes 2 examples/scaling/accelerate_fit.py

and on every GPU of a machine::

    accelerate launch --multi_gpu examples/scaling/accelerate_fit.py --device cuda

Each process prints its rank, its test accuracy and a checksum of its weights; the checksums
agree because the replicas are synchronised.
"""

import argparse

import numpy as np
import torch

from seqestim import GRUClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu", help='"cpu" keeps Accelerate on the CPU')
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

# is the mean of a noisy sequence positive? learnable in a few epochs
rng = np.random.default_rng(0)
X = rng.normal(size=(384, 1, 16)).astype(np.float32)
y = (X.mean(axis=(1, 2)) > 0).astype(int)
X, X_test, y, y_test = X[:256], X[256:], y[:256], y[256:]

clf = GRUClassifier(
    d_model=16,
    max_epochs=args.epochs,
    lr=1e-2,
    device=args.device,
    accelerator={},  # keyword arguments of accelerate.Accelerator; {} = its defaults
    random_state=0,
).fit(X, y)

accelerator = clf.net_.accelerator
checksum = sum(float(p.detach().double().sum()) for p in clf.module_.parameters())
rank = accelerator.process_index
accuracy = clf.score(X_test, y_test)
size = accelerator.num_processes
print(f"rank {rank} of {size}: accuracy {accuracy:.3f}, checksum {checksum:.10f}", flush=True)
if torch.distributed.is_available() and torch.distributed.is_initialized():
    torch.distributed.barrier()
