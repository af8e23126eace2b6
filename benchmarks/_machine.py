"""What a benchmark's figures were measured on: CPU model, cores, BLAS kernel."""

import os
import platform


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
