"""`python -m ganlab bench pretrained`: generation time per image of progressive GANs.

Karras et al. 2018 CelebA-HQ generator (section "karras", on by default): the FULL-size
architecture (latent 512; channels 512 at 4..32 px, 256 at 64, 128 at 128, 64 at 256, 32 at
512, 16 at 1024) with random weights of the real shapes, seconds per 1024x1024 image at 1
and 2 threads (--karras-threads), batch 1 and 8 (--karras-batches), for
- "plain fp32": the straightforward eager forward as published (`karras.plain_forward`:
  upsample, conv, wscale multiply, per layer): the baseline, measured in the same run;
- "ganlab fp32": `KarrasGenerator` (wscale folded, fused upsampling convs, channels-last,
  inference mode), what `load_generator` returns;
- "ganlab bf16": the same in bfloat16, only where oneDNN reports bf16 support; its error
  against fp32 is printed (max and mean absolute difference on the output);
- "preview 256 px": the full forward then an area downsample to 256 px (this network has a
  single output layer at full resolution: stopping at the 256 px block has no RGB layer to
  apply, so a preview is the same picture, smaller; it costs a full forward).
Each row's peak RSS is the process's high-water mark during that row (reset before it on
Linux via /proc/self/clear_refs), and "extra" is that peak minus the resting RSS.

Other models (section "zoo"): the published celebAHQ-256 / celebAHQ-512 architectures of
pytorch_GAN_zoo with random weights (no download: the time depends on the
architecture only), and the bundled 32x32 generators of assets/pgan/. For each
device (CPU, and CUDA where available) it times:
- batch 1: one image per call (a slider move), median of --repeats calls;
- an interpolation of --frames frames rendered as 1-image calls versus one
  batched call (how the latent explorer renders them), in ms per image, and the
  speed-up of batching.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganlab.bench import at_least, choices, format_table, int_list
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.errors import ConfigError
from ganlab.pretrained import PretrainedGenerator, list_bundled
from ganlab.pretrained.karras import KarrasConfig, KarrasGenerator, plain_forward, random_state

SECTIONS = ("karras", "zoo")
# The published celebaHQ checkpoints: depthScales of the zoo's celebaHQ training config
# (512, 512, 512, 512, 256, 128, 64, ...), latent 512, RGB, WGAN-GP (linear output).
ZOO_ARCHITECTURES = {
    "celebAHQ-256": PGANConfig(latent_dim=512, depth_scale0=512, depth_other_scales=(512, 512, 512, 256, 128, 64),
                               channels=3),
    "celebAHQ-512": PGANConfig(latent_dim=512, depth_scale0=512,
                               depth_other_scales=(512, 512, 512, 256, 128, 64, 32), channels=3),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sections", default="karras",
                   help="comma-separated: karras (full-size 1024 px Karras generator, ~1 min) and/or zoo "
                        "(the --models below)")
    p.add_argument("--karras-threads", default="1,2", help="torch thread counts of the karras section")
    p.add_argument("--karras-batches", default="1,8", help="batch sizes of the karras section")
    p.add_argument("--karras-baseline-batches", default="1",
                   help="batch sizes of the plain baseline (batch 8 of it takes ~40 s on 1 core)")
    p.add_argument("--karras-small", action="store_true",
                   help="karras section at 32 px (latent 32) instead of full size: a seconds-long smoke run")
    p.add_argument("--models", default="celebAHQ-256,celebAHQ-512,mnist-32,fashion-32",
                   help="comma-separated: zoo architectures and/or bundled model names")
    p.add_argument("--frames", type=int, default=30, help="frames of the interpolation timing")
    p.add_argument("--repeats", type=int, default=5, help="batch-1 calls timed (the median is reported)")
    p.add_argument("--karras-repeats", type=int, default=1, help="timed calls per karras row (the best is reported)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--devices", default="auto", help="cpu, cuda or auto (CPU, plus CUDA when available)")


def _generator(name: str, device: str) -> PretrainedGenerator:
    if name in ZOO_ARCHITECTURES:
        module = Generator(ZOO_ARCHITECTURES[name], torch.Generator().manual_seed(0))
        return PretrainedGenerator(module.to(device), name + " (random weights)", None)
    from ganlab.explore import load_bundled

    return load_bundled(name) if device == "cpu" else _to(load_bundled(name), device)


def _to(gen: PretrainedGenerator, device: str) -> PretrainedGenerator:
    gen.module.to(device)
    return gen


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _seconds(gen: PretrainedGenerator, z: torch.Tensor, device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    gen(z, batch_size=z.shape[0])
    _sync(device)
    return time.perf_counter() - t0


def time_model(name: str, device: str, frames: int, repeats: int) -> dict:
    """One row: ms per image at batch 1, for `frames` single calls and one batched call."""
    gen = _generator(name, device)
    z = gen.latents(frames, seed=0)
    _seconds(gen, z[:1], device)  # warm-up (allocations, cuDNN autotuning)
    single = statistics.median(_seconds(gen, z[i % frames:i % frames + 1], device) for i in range(repeats))
    separate = sum(_seconds(gen, z[i:i + 1], device) for i in range(frames))
    batched = _seconds(gen, z, device)
    return {"model": name, "device": device, "resolution": gen.resolution,
            "batch1_ms": round(1000 * single, 2),
            f"{frames}_separate_ms_per_image": round(1000 * separate / frames, 2),
            f"{frames}_batched_ms_per_image": round(1000 * batched / frames, 2),
            f"{frames}_frames_batched_s": round(batched, 3),
            "batching_speedup": round(separate / batched, 2)}


# --- Karras section ----------------------------------------------------------------------

def _rss_mb(field: str) -> float | None:
    """VmRSS / VmHWM of this process in MB (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the RSS high-water mark (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _timed(fn, z: torch.Tensor, repeats: int, device: str) -> tuple[float, float | None, float | None]:
    """(best seconds per image over `repeats` calls, peak RSS MB, extra MB over the resting RSS)."""
    rest = _rss_mb("VmRSS")
    resettable = _reset_peak()
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn(z)
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    peak = _rss_mb("VmHWM") if resettable else None
    extra = peak - rest if peak is not None and rest is not None else None
    return best / z.shape[0], peak, extra


def karras_rows(threads: list[int], batches: list[int], repeats: int, small: bool, device: str = "cpu",
                baseline_batches: list[int] | None = None) -> dict:
    """Seconds per image of the Karras generator: plain baseline, ganlab fp32, bf16, preview."""
    config = KarrasConfig(32, (32,) * 6 + (16, 16)) if small else KarrasConfig.full_size()
    state = {k: v.to(device) for k, v in random_state(config, seed=0).items()}
    fast = PretrainedGenerator(KarrasGenerator.from_state(state).to(device), "karras (random weights)", None)
    z = torch.randn(max(batches), config.latent_dim, generator=torch.Generator().manual_seed(1))
    bf16_ok = device == "cuda" or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    half = None
    if bf16_ok:
        half = PretrainedGenerator(KarrasGenerator.from_state(state).to(device, torch.bfloat16), "bf16", None)
    preview = min(256, config.resolution)

    def run_fast(x: torch.Tensor) -> torch.Tensor:
        return fast(x, batch_size=x.shape[0])

    def run_preview(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(fast(x, batch_size=x.shape[0]), size=(preview, preview), mode="area")

    impls = [("plain fp32 (baseline)", lambda x: plain_forward(state, x.to(device)).cpu()),
             ("ganlab fp32", run_fast)]
    if half is not None:
        impls.append(("ganlab bf16", lambda x: half(x, batch_size=x.shape[0])))
    impls.append((f"preview {preview} px (full forward + area downsample)", run_preview))
    with torch.inference_mode():
        ref = plain_forward(state, z[:2].to(device)).cpu()
        errors = {"ganlab fp32": (fast(z[:2]) - ref).abs()}
        if half is not None:
            errors["ganlab bf16"] = (half(z[:2]) - fast(z[:2])).abs()
    rows = []
    for t in threads:
        if device == "cpu":
            torch.set_num_threads(t)
        for label, fn in impls:
            fn(z[:1])  # warm-up: oneDNN primitive creation, allocator
            for b in batches:
                if label.startswith("preview") and b != 1:
                    continue  # a preview is one slider position
                if label.startswith("plain") and baseline_batches is not None and b not in baseline_batches:
                    continue
                sec, peak, extra = _timed(fn, z[:b], repeats, device)
                rows.append({"implementation": label, "device": device, "threads": t if device == "cpu" else "-",
                             "batch": b, "s_per_image": round(sec, 3),
                             "peak_rss_mb": round(peak) if peak is not None else "n/a",
                             "extra_rss_mb": round(extra) if extra is not None else "n/a"})
    return {"resolution": config.resolution, "latent_dim": config.latent_dim, "depths": list(config.depths),
            "max_abs_error": {k: round(float(v.max()), 5) for k, v in errors.items()},
            "mean_abs_error": {k: round(float(v.mean()), 5) for k, v in errors.items()},
            "output_std": round(float(ref.std()), 4), "rows": rows, "bf16_supported": bf16_ok}


def _devices(text: str) -> list[str]:
    """--devices -> the devices to time: "auto" is the CPU plus CUDA when a GPU is visible."""
    if text == "auto":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    devices = choices(text, "--devices", ("auto", "cpu", "cuda"))
    if "auto" in devices:
        raise ConfigError("--devices auto stands alone; give auto, cpu, cuda or cpu,cuda")
    if "cuda" in devices and not torch.cuda.is_available():
        raise ConfigError("--devices cuda: no CUDA GPU is visible to torch; use --devices cpu or auto")
    return devices


def run(args: argparse.Namespace) -> dict:
    # All options are checked before the first (minute-long) section starts.
    sections = set(choices(args.sections, "--sections", SECTIONS))
    devices = _devices(args.devices)
    threads = int_list(args.karras_threads, "--karras-threads", 1, example="1,2")
    batches = int_list(args.karras_batches, "--karras-batches", 1, example="1,8")
    base = int_list(args.karras_baseline_batches, "--karras-baseline-batches", 1, example="1")
    at_least(args.karras_repeats, "--karras-repeats")
    at_least(args.frames, "--frames")
    at_least(args.repeats, "--repeats")
    at_least(args.threads, "--threads", 0)
    names = choices(args.models, "--models", [*ZOO_ARCHITECTURES, *list_bundled()]) if "zoo" in sections else []
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result: dict = {"threads": torch.get_num_threads(), "frames": args.frames, "rows": [],
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    if "karras" in sections:
        result["karras"] = [karras_rows(threads, batches, args.karras_repeats, args.karras_small, device, base)
                            for device in devices]
        torch.set_num_threads(result["threads"])
    if "zoo" in sections:
        result["rows"] = [time_model(name, device, args.frames, args.repeats) for device in devices for name in names]
    return result


def table(result: dict) -> str:
    head = f"torch threads: {result['threads']}; GPU: {result['cuda'] or 'none'}\n"
    parts = []
    for k in result.get("karras", []):
        parts.append(f"Karras et al. generator, {k['resolution']}x{k['resolution']}, latent {k['latent_dim']}, "
                     f"random weights{' of the real shapes' if k['resolution'] == 1024 else ''}; max |ganlab - plain| {k['max_abs_error']}, "
                     f"mean {k['mean_abs_error']} (output std {k['output_std']})\n" + format_table(k["rows"]))
    if result["rows"]:
        parts.append(format_table(result["rows"]))
    return head + "\n\n".join(parts)
