"""What this machine offers: physical cores, and what the llama.cpp build can use."""

from __future__ import annotations

from pathlib import Path

from codectx.models.runtime import devices


def topology(root: Path, cpus: dict[int, tuple[int, int]]) -> Path:
    for cpu, (package, core) in cpus.items():
        base = root / f"cpu{cpu}" / "topology"
        base.mkdir(parents=True)
        (base / "physical_package_id").write_text(f"{package}\n")
        (base / "core_id").write_text(f"{core}\n")
    return root


def test_hyperthreads_of_one_core_count_once(tmp_path: Path) -> None:
    # 4 logical CPUs: two cores with two threads each.
    root = topology(tmp_path, {0: (0, 0), 1: (0, 1), 2: (0, 0), 3: (0, 1)})
    assert devices.physical_cores([0, 1, 2, 3], root) == 2
    assert devices.physical_cores([0, 2], root) == 1  # affinity to one core's two threads
    assert devices.physical_cores([0, 1], root) == 2


def test_the_same_core_id_on_two_packages_is_two_cores(tmp_path: Path) -> None:
    root = topology(tmp_path, {0: (0, 0), 1: (1, 0)})
    assert devices.physical_cores([0, 1], root) == 2


def test_without_topology_the_count_falls_back_to_a_ratio(tmp_path: Path) -> None:
    import psutil

    assert devices.physical_cores([0, 1, 2, 3], tmp_path / "missing") >= 1
    # Every logical CPU of the machine: as many cores as it has physical ones.
    logical = psutil.cpu_count(logical=True)
    physical = psutil.cpu_count(logical=False)
    assert logical and physical
    assert devices.physical_cores(list(range(logical)), tmp_path / "missing") == physical


def test_the_default_threads_are_the_cores_this_process_may_use() -> None:
    cores = devices.default_threads()
    assert 1 <= cores <= len(devices.usable_cpus())


def test_this_build_reports_its_backends_and_the_gpus_it_can_use() -> None:
    backends = devices.llama_backends()
    assert "CPU" in backends
    found = devices.llama_devices()
    if not devices.supports_offload():  # a CPU build: nothing to offload to
        assert backends == ["CPU"] and found == []
        return
    assert set(backends) - {"CPU"}, backends  # the GPU backend the build was made with
    if "CUDA" in backends and devices.nvidia_devices():  # a GPU this build can use
        assert found
    assert [device.index for device in found] == list(range(len(found)))
    for device in found:
        assert device.total_bytes > 0 and 0 <= device.free_bytes <= device.total_bytes


def test_nvidia_gpus_are_listed_only_where_a_driver_answers() -> None:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        count = None  # no driver
    else:
        count = pynvml.nvmlDeviceGetCount()
        pynvml.nvmlShutdown()
    listed = devices.nvidia_devices()
    if count is None:
        assert listed == []
        return
    # One entry for each GPU the driver counts, in its order, each with its memory.
    assert [d.name for d in listed] == [f"CUDA{i}" for i in range(count)]
    for device in listed:
        assert device.total_bytes > 0 and 0 <= device.free_bytes <= device.total_bytes
