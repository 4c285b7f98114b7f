"""`python -m ganlab bench ...`: bad options exit 2 with one line naming the option and the
fix, before any benchmark work starts (each case here returns in well under a second)."""
from __future__ import annotations

import pytest
import torch

from ganlab.bench import at_least, choices, int_list, positive_seconds
from ganlab.cli import main
from ganlab.errors import ConfigError


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("args, message", [
    # toy
    (["toy", "--seeds", "abc", "--skip-speed"], "--seeds takes comma-separated integers such as 0,1,2; got 'abc'"),
    (["toy", "--seeds", "0,1.5"], "--seeds takes comma-separated integers such as 0,1,2; got '0,1.5'"),
    (["toy", "--seeds", ","], "--seeds takes comma-separated integers such as 0,1,2; got ','"),
    (["toy", "--seeds", "0,-1"], "--seeds values must be at least 0; got -1"),
    (["toy", "--data", "moons"], "--data 'moons' is not known; use comma-separated names from ring8, grid25, "
                                 "two_blobs, cube8, mixture1d"),
    (["toy", "--rounds", "0"], "--rounds must be at least 1; got 0"),
    (["toy", "--round-steps", "-3"], "--round-steps must be at least 1; got -3"),
    (["toy", "--threads", "0"], "--threads must be at least 1; got 0"),
    # lab
    (["lab", "--runs", "0"], "--runs must be at least 1; got 0"),
    (["lab", "--steps", "0"], "--steps must be at least 1; got 0"),
    (["lab", "--rounds", "0"], "--rounds must be at least 1; got 0"),
    (["lab", "--threads", "0"], "--threads must be at least 1; got 0"),
    # folder
    (["folder", "--sizes", "48", "--steps", "1"], "--sizes 48 is not supported; bench folder has presets for "
                                                  "64 and 128 px (e.g. --sizes 64,128)"),
    (["folder", "--sizes", "64px"], "--sizes takes comma-separated integers such as 64,128; got '64px'"),
    (["folder", "--steps", "0"], "--steps must be at least 1; got 0"),
    (["folder", "--warmup", "-1"], "--warmup must be at least 0; got -1"),
    (["folder", "--images", "0"], "--images must be at least 1; got 0"),
    (["folder", "--batch", "-2"], "--batch must be at least 0; got -2"),
    (["folder", "--threads", "-1"], "--threads must be at least 0; got -1"),
    (["folder", "--device", "gpu"], "--device 'gpu' is not known; use one of cpu, cuda, auto, mps"),
    # pretrained
    (["pretrained", "--sections", "foo"], "--sections 'foo' is not known; use comma-separated names from "
                                          "karras, zoo"),
    (["pretrained", "--sections", ""], "--sections is empty; use comma-separated names from karras, zoo"),
    (["pretrained", "--sections", "zoo", "--models", "nope"], "--models 'nope' is not known; use comma-separated "
                                                              "names from celebAHQ-256, celebAHQ-512"),
    (["pretrained", "--devices", "tpu"], "--devices 'tpu' is not known; use comma-separated names from auto, "
                                         "cpu, cuda"),
    (["pretrained", "--devices", "auto,cpu"], "--devices auto stands alone; give auto, cpu, cuda or cpu,cuda"),
    (["pretrained", "--karras-threads", "x"], "--karras-threads takes comma-separated integers such as 1,2; "
                                              "got 'x'"),
    (["pretrained", "--karras-batches", "0"], "--karras-batches values must be at least 1; got 0"),
    (["pretrained", "--karras-baseline-batches", "-1"], "--karras-baseline-batches values must be at least 1; "
                                                        "got -1"),
    (["pretrained", "--karras-repeats", "0"], "--karras-repeats must be at least 1; got 0"),
    (["pretrained", "--frames", "0"], "--frames must be at least 1; got 0"),
    (["pretrained", "--repeats", "0"], "--repeats must be at least 1; got 0"),
    (["pretrained", "--threads", "-1"], "--threads must be at least 0; got -1"),
    # mnist
    (["mnist", "--data", "ring8"], "--data takes one of mnist, fashion_mnist; got 'ring8'"),
    (["mnist", "--models", "mlp,gan"], "--models 'gan' is not known; use comma-separated names from "
                                       "mlp, cgan, dcgan, cdcgan"),
    (["mnist", "--seconds", "0"], "--seconds must be a number of seconds above 0; got 0"),
    (["mnist", "--speed-seconds", "inf"], "--speed-seconds must be a number of seconds above 0; got inf"),
    (["mnist", "--eval-samples", "0"], "--eval-samples must be at least 1; got 0"),
    (["mnist", "--eval-every", "0"], "--eval-every must be at least 1; got 0"),
    (["mnist", "--threads", "0"], "--threads must be at least 1; got 0"),
    (["mnist", "--seed", "-1"], "--seed must be at least 0; got -1"),
])
def test_bad_bench_options_exit_2_with_one_line(args, message, capsys):
    assert main(["bench", *args]) == 2
    line = _one_error_line(capsys)
    assert message in line, line


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible here")
def test_bench_pretrained_asks_for_a_gpu_that_is_absent(capsys):
    assert main(["bench", "pretrained", "--devices", "cuda"]) == 2
    assert _one_error_line(capsys) == ("error: --devices cuda: no CUDA GPU is visible to torch; "
                                       "use --devices cpu or auto")


def test_option_helpers():
    assert int_list(" 0, 1,,2 ", "--seeds") == [0, 1, 2]
    assert choices("zoo, karras", "--sections", ("karras", "zoo")) == ["zoo", "karras"]
    at_least(0, "--warmup", 0)
    positive_seconds(0.5, "--seconds")
    with pytest.raises(ConfigError, match=r"^--seconds must be a number of seconds above 0; got nan$"):
        positive_seconds(float("nan"), "--seconds")
    with pytest.raises(ConfigError, match=r"^--runs must be at least 1; got 0$"):
        at_least(0, "--runs")
