"""The ``svhnx`` console command and ``python -m svhnx.doctor``."""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from svhnx import cli, doctor
from svhnx.hardware import resolve_precision


def test_the_svhnx_command_is_an_installed_entry_point():
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "svhnx"]
    assert entry.value == "svhnx.cli:main"


def command() -> list[str]:
    """The installed ``svhnx`` script beside this Python, else the entry point run by this Python."""
    script = Path(sys.executable).with_name("svhnx")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "import sys, svhnx.cli; sys.exit(svhnx.cli.main())"]


@pytest.mark.slow
def test_svhnx_runs_the_python_m_tools():
    listing = subprocess.run([*command(), "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("train", "evaluate", "predict", "synth", "export", "doctor"):
        assert f"\n  {name} " in listing
    train = subprocess.run([*command(), "train", "--help"], capture_output=True, text=True, check=True).stdout
    assert train.startswith("usage: python -m svhnx.train") and "mnist-seq" in train
    bad = subprocess.run([*command(), "train", "mnist-seq", "--model", "unet"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'unet'" in bad.stderr


def test_an_unknown_command_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fly"])
    assert exit_.value.code == 2 and "invalid choice: 'fly'" in capsys.readouterr().err


def test_doctor_reports_versions_kernels_device_folders_and_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("SVHNX_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(doctor, "WEIGHTS_DIR", tmp_path / "weights")
    info = doctor.report()
    assert {"versions", "platform", "native_kernels", "device", "torch_threads", "cpu_cores", "data_folder",
            "synth_cache", "svhn_crops_cache", "shipped_weights"} <= set(info)
    assert {"svhnx", "python", "torch", "numpy", "opencv-python-headless"} <= set(info["versions"])
    assert info["native_kernels"] in {"avx2", "sse2", "plain"}
    assert info["reader_precision"].startswith(resolve_precision("auto"))
    assert info["data_folder"] == f"{tmp_path / 'data'} (not created yet)"
    assert info["svhn_crops_cache"].startswith(os.environ["SVHNX_CACHE"])
    assert info["shipped_weights"][0].startswith("none")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "recognizer.pt").write_bytes(b"\0" * 2**20)
    assert doctor.report()["shipped_weights"] == ["recognizer.pt (1.0 MiB)"]


def test_doctor_names_a_refused_simd_setting(monkeypatch):
    monkeypatch.setenv("SVHNX_SIMD", "avx9")
    assert doctor.native_kernels().startswith("error: SVHNX_SIMD")


def test_doctor_prints_lines_or_json(capsys):
    assert doctor.main([]) == 0
    assert "native_kernels" in capsys.readouterr().out
    assert doctor.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["native_kernels"] in {"avx2", "sse2", "plain"}


@pytest.mark.skipif(shutil.which("svhnx") is None, reason="the svhnx script is not on PATH")
def test_svhnx_info_is_the_doctor():
    out = subprocess.run(["svhnx", "info", "--json"], capture_output=True, text=True, check=True).stdout
    assert "native_kernels" in json.loads(out)
