"""Shared by the benchmarks: what the figures were measured on, and interleaved timing."""

import os
import platform
import time

import numpy as np


def describe_machine():
    """One line: CPU model, cores, Python, and the BLAS kernel numpy uses."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
        flags = " AVX-512" if " avx512f" in text else (" AVX2" if " avx2" in text else "")
        # a virtual machine's model name may be the vendor's line only ("AMD EPYC"): the family
        # and model numbers tell the generation (AMD family 25 is Zen 3 or Zen 4)
        fields = {}
        for line in text.splitlines():  # the first processor's block
            if not line.strip():
                break
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        family, number = fields.get("cpu family"), fields.get("model")
        if family and number:
            flags += f" (family {family}, model {number})"
    except OSError:
        pass
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            blas = f", BLAS {info[0].get('internal_api')} {info[0].get('architecture')}"
    except ImportError:
        pass
    return (f"CPU: {model}{flags}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}{blas}")


def interleaved_rounds(repeat, variants):
    """Seconds of each variant in each round; within a round the variants run back to back.

    A shared machine's speed drifts: comparing variants within each round, then
    taking the median over rounds, compares them under the same conditions.
    """
    times = {name: [] for name in variants}
    for _ in range(repeat):
        for name, function in variants.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: np.array(values) for name, values in times.items()}
