"""Where a model's layers, KV cache and scratch buffers go: GPUs and system memory.

llama.cpp offloads the last `n_gpu_layers` of the model's repeating layers (and,
when every one of them is offloaded, the output layer too), spreads the offloaded
layers over the GPUs by `tensor_split` (by default in proportion to each GPU's
free memory), keeps a layer's KV cache with the layer when `offload_kqv` is on,
and leaves the token embeddings in system memory. This module mirrors that to
estimate each device's share, so a plan that cannot fit is refused before
anything is loaded, with each device's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from codectx.errors import ModelError
from codectx.models.runtime.devices import Device

HEADROOM = 0.9  # never plan to use the last tenth of a device's (or the system's) free memory
REBUILD = ("Install llama-cpp-python built for your GPU (docs/models.md: Installing for a GPU), "
           "or set gpu_layers = 0.")


@dataclass(frozen=True)
class GpuSettings:
    layers: int | None = None
    """Layers to offload; None: all of them where this build and a GPU allow, else 0."""
    main_gpu: int = 0
    tensor_split: tuple[float, ...] = ()
    offload_kqv: bool = True


@dataclass(frozen=True)
class Machine:
    ram_bytes: int
    """System memory available now."""
    devices: tuple[Device, ...] = ()
    """The GPUs this build can offload to."""
    offload: bool = False
    """Whether this llama-cpp-python build can offload at all."""


@dataclass(frozen=True)
class Share:
    """What one place holds, a GPU (`device` set) or system memory, and what it can hold."""

    device: Device | None
    limit_bytes: int
    layers: int = 0
    weights_bytes: int = 0
    kv_bytes: int = 0
    compute_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes

    @property
    def where(self) -> str:
        return f"GPU {self.device.index} ({self.device.description})" if self.device else "RAM"


@dataclass(frozen=True)
class Placement:
    gpu_layers: int
    gpus: tuple[Share, ...]
    ram: Share

    def fits(self) -> bool:
        return not self.overflows()

    def overflows(self) -> list[str]:
        """'where needs X of Y usable' for each place that cannot hold its share (a GPU
        sharing the system's memory counts against RAM too)."""
        bad = [f"{s.where} needs {gib(s.total_bytes)} of {gib(s.limit_bytes)} usable"
               for s in self.gpus if s.total_bytes > s.limit_bytes]
        ram = self.ram.total_bytes + sum(s.total_bytes for s in self.gpus
                                         if s.device and s.device.unified)
        if ram > self.ram.limit_bytes:
            bad.append(f"RAM needs {gib(ram)} of {gib(self.ram.limit_bytes)} usable")
        return bad


def gib(n: float) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def check(gpu: GpuSettings, machine: Machine, layers: int) -> tuple[int | None, tuple[str, ...]]:
    """The layer count to place (None: as many as fit) and a one-line note for a planned
    fall-back; ModelError for a setting that cannot be right here."""
    most = layers + 1
    if gpu.layers is not None and gpu.layers > most:
        raise ModelError(f"gpu_layers = {gpu.layers}, but the model has {layers} layers "
                         f"({most} with its output layer)",
                         f"Set gpu_layers to at most {most}, or to \"auto\".")
    if gpu.layers == 0:
        return 0, ()
    seen = len(machine.devices)
    if len(gpu.tensor_split) > seen:
        raise ModelError(f"tensor_split names {len(gpu.tensor_split)} devices, but "
                         f"{seen} GPU(s) are visible to this llama-cpp-python build",
                         f"Give at most {seen} proportions, one per GPU (`codectx doctor` "
                         "lists them)." if seen else "Remove tensor_split.")
    if gpu.tensor_split and sum(gpu.tensor_split) <= 0:
        raise ModelError("tensor_split must be proportions with a positive sum",
                         "For example tensor_split = [3, 1] for three quarters on GPU 0.")
    if gpu.main_gpu and gpu.main_gpu >= seen:
        raise ModelError(f"main_gpu = {gpu.main_gpu}, but {seen} GPU(s) are visible to this "
                         "llama-cpp-python build",
                         f"Set main_gpu to 0..{seen - 1}." if seen else "Remove main_gpu.")
    if not machine.offload:
        if gpu.layers is None:
            return 0, ()
        raise ModelError(f"gpu_layers = {gpu.layers}, but this llama-cpp-python build has no "
                         "GPU backend", REBUILD)
    if not machine.devices:
        return 0, ("this llama-cpp-python build can offload to a GPU but sees none: running "
                   "on the CPU",)
    return (min(gpu.layers, most) if gpu.layers is not None else None), ()


def place(layers: int, weights_bytes: int, kv_bytes: int, compute_bytes: int,
          gpu_layers: int, gpu: GpuSettings, machine: Machine) -> Placement:
    """The shares for offloading `gpu_layers` of `layers` (+1 for the output layer)."""
    per_layer = weights_bytes // (layers + 2)  # repeating layers, output, token embeddings
    kv_layer = kv_bytes // layers
    devices = machine.devices if gpu_layers else ()
    split = _split(gpu, devices)
    first = layers + 1 - gpu_layers  # llama.cpp offloads the last layers
    counts = [0] * len(devices)
    kv_counts = [0] * len(devices)
    for i in range(first, layers + 1):
        at = _device_for((i - first) / max(gpu_layers, 1), split)
        counts[at] += 1
        kv_counts[at] += i < layers
    gpus = []
    for n, device in enumerate(devices):
        gpus.append(Share(
            device, int(device.free_bytes * HEADROOM), counts[n], counts[n] * per_layer,
            kv_counts[n] * kv_layer if gpu.offload_kqv else 0,
            compute_bytes if n == gpu.main_gpu else 0))
    on_gpu = sum(counts)
    kv_on_gpu = sum(s.kv_bytes for s in gpus)
    ram = Share(None, int(machine.ram_bytes * HEADROOM), layers + 1 - on_gpu,
                weights_bytes - on_gpu * per_layer, kv_bytes - kv_on_gpu,
                compute_bytes if not gpus else compute_bytes // 4)
    return Placement(on_gpu, tuple(gpus), ram)


def _split(gpu: GpuSettings, devices: tuple[Device, ...]) -> list[float]:
    if not devices:
        return []
    weights = list(gpu.tensor_split) + [0.0] * (len(devices) - len(gpu.tensor_split)) \
        if gpu.tensor_split else [float(d.free_bytes) for d in devices]
    total = sum(weights) or 1.0
    return [w / total for w in weights]


def _device_for(fraction: float, split: list[float]) -> int:
    edge = 0.0
    for n, share in enumerate(split):
        edge += share
        if fraction < edge:
            return n
    return max(i for i, s in enumerate(split) if s > 0)
