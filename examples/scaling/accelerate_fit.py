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

import torch

from seqestim import GRUClassifier
from seqestim.datasets import make_xor_sequences

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu", help='"cpu" keeps Accelerate on the CPU')
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

X, y = make_xor_sequences(n_samples=256, seq_len=16, random_state=0)
X_test, y_test = make_xor_sequences(n_samples=128, seq_len=16, random_state=1)

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
print(f"rank {rank} of {size}: accuracy {accuracy:.3f}, checksum {checksum:.10f}")
if torch.distributed.is_available() and torch.distributed.is_initialized():
    torch.distributed.barrier()
