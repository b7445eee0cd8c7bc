"""What this machine offers a model: CPU cores, and the devices llama.cpp can offload to.

Threads: llama.cpp runs best with one thread per physical core; hyper-threads
share a core's vector units and only add contention. The cores counted are those
this process may run on (its CPU affinity, as a container or `taskset` sets it),
mapped to physical cores through the kernel's topology where it says.

Devices: what this llama-cpp-python build can offload to comes from ggml's own
backend registry (CUDA, Metal, Vulkan, ROCm/HIP, SYCL devices with their free and
total memory), so the planner sees what llama.cpp will use. An NVIDIA GPU that the
build cannot use is still worth naming (`codectx doctor` says to rebuild), so
NVIDIA's management library is asked as well when installed (`nvidia-ml-py`,
optional).
"""

from __future__ import annotations

import ctypes
import os
import platform
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GGML_DEVICE_GPU = (1, 2)  # ggml_backend_dev_type: CPU 0, GPU 1, integrated GPU 2, ACCEL 3


@dataclass(frozen=True)
class Device:
    """One device llama.cpp can place layers on."""

    index: int
    name: str
    description: str
    total_bytes: int
    free_bytes: int
    unified: bool = False
    """Its memory is the system's (Apple silicon, integrated GPUs): what it holds, RAM
    does not have."""


# -- CPU -----------------------------------------------------------------------------------


def usable_cpus() -> list[int]:
    """The logical CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    import psutil

    try:
        return sorted(psutil.Process().cpu_affinity() or [])
    except (AttributeError, psutil.Error):
        return list(range(os.cpu_count() or 1))


def physical_cores(cpus: list[int] | None = None,
                   topology: Path = Path("/sys/devices/system/cpu")) -> int:
    """The physical cores among `cpus` (default: this process's): distinct (package,
    core) pairs where the kernel reports topology, else the logical count scaled by the
    machine's physical-to-logical ratio. At least 1."""
    cpus = usable_cpus() if cpus is None else cpus
    cores: set[tuple[str, str]] = set()
    for cpu in cpus:
        base = topology / f"cpu{cpu}" / "topology"
        try:
            cores.add(((base / "physical_package_id").read_text().strip(),
                       (base / "core_id").read_text().strip()))
        except OSError:
            cores = set()
            break
    if cores:
        return len(cores)
    import psutil

    logical = psutil.cpu_count(logical=True) or len(cpus) or 1
    physical = psutil.cpu_count(logical=False) or logical
    return max(1, round(len(cpus) * physical / logical))


def default_threads() -> int:
    return physical_cores()


# -- what llama.cpp was built with --------------------------------------------------------


@cache
def _ggml() -> ctypes.CDLL:
    import llama_cpp
    from llama_cpp._ggml import libggml

    llama_cpp.llama_backend_init()
    lib = libggml
    for name, res, args in (
        ("ggml_backend_reg_count", ctypes.c_size_t, []),
        ("ggml_backend_reg_get", ctypes.c_void_p, [ctypes.c_size_t]),
        ("ggml_backend_reg_name", ctypes.c_char_p, [ctypes.c_void_p]),
        ("ggml_backend_dev_count", ctypes.c_size_t, []),
        ("ggml_backend_dev_get", ctypes.c_void_p, [ctypes.c_size_t]),
        ("ggml_backend_dev_name", ctypes.c_char_p, [ctypes.c_void_p]),
        ("ggml_backend_dev_description", ctypes.c_char_p, [ctypes.c_void_p]),
        ("ggml_backend_dev_type", ctypes.c_int, [ctypes.c_void_p]),
        ("ggml_backend_dev_memory", None,
         [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]),
    ):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib  # type: ignore[no-any-return]


def llama_backends() -> list[str]:
    """The ggml backends this llama-cpp-python build registered (e.g. CPU, CUDA, Metal)."""
    lib = _ggml()
    return [lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)).decode()
            for i in range(lib.ggml_backend_reg_count())]


def supports_offload() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def llama_devices() -> list[Device]:
    """The GPUs this build can offload to, in llama.cpp's order (the `main_gpu` and
    `tensor_split` indices), with their memory now."""
    lib = _ggml()
    found: list[Device] = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        kind = lib.ggml_backend_dev_type(dev)
        if kind not in GGML_DEVICE_GPU:
            continue
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        name = lib.ggml_backend_dev_name(dev).decode()
        unified = kind == 2 or (platform.system() == "Darwin" and platform.machine() == "arm64")
        found.append(Device(len(found), name, lib.ggml_backend_dev_description(dev).decode(),
                            int(total.value), int(free.value), unified))
    return found


def nvidia_devices() -> list[Device]:
    """NVIDIA GPUs as the driver reports them, whatever this build can use; empty without
    `nvidia-ml-py` or a driver."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        found = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            found.append(Device(i, f"CUDA{i}", name if isinstance(name, str) else name.decode(),
                                int(memory.total), int(memory.free)))
        return found
    except pynvml.NVMLError:
        return []
    finally:
        pynvml.nvmlShutdown()
