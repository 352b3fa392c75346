"""The shipped models, chosen by name (``--model default``, ``--model fast``), in the style of
keras-hub presets and CompressAI's zoo: each entry says what the model is, what it costs, where its
files are, how well it does and the commands that made it.

Every number here was measured through 8-bit files at full resolution (``eval.py``,
``benchmarks/quality_report.py``, ``benchmarks/speed.py``); ``checkpoints/README.md`` has the
tables behind them.
"""

from __future__ import annotations

import dataclasses
import pathlib

CHECKPOINTS = pathlib.Path(__file__).resolve().parent.parent / "checkpoints"
ROLES = {"hide": "hide.keras", "reveal": "reveal.keras", "joint": "steg_model.keras"}


@dataclasses.dataclass(frozen=True)
class ShippedModel:
    """A trained model in ``checkpoints/<name>/``.

    Attributes:
        name: what ``--model`` takes.
        description: one line for ``--help`` and the README.
        preset: the network layout (:data:`models.PRESETS`).
        parameters: trainable weights (shared by hiding and revealing for invertible layouts).
        flops_per_pixel: floating-point operations per pixel of one hide (or one reveal).
        quality: measured numbers (dB and SSIM on 0-255), keyed as in ``eval.py``'s JSON.
        recipe: the ``train.py`` (and ``split_model.py``) commands that made it, in order;
            ``train.py --recipe NAME`` runs them.
    """

    name: str
    description: str
    preset: str
    parameters: int
    flops_per_pixel: float
    quality: dict
    recipe: tuple

    @property
    def folder(self) -> pathlib.Path:
        return CHECKPOINTS / self.name

    def path(self, role: str) -> pathlib.Path:
        """The file of ``role``: ``hide``, ``reveal`` or ``joint`` (the weights-only training model)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        return self.folder / ROLES[role]


_COMMON = ("--train-dirs ../shared/data/images/train --val-dirs ../shared/data/images/val --batch-size 8 --val-steps 25 "
           "--noise 0.004 --clip-norm 0.5 --scramble-block-size 32")

SHIPPED = {
    "default": ShippedModel(
        name="default",
        description="the best quality: HiNet-style invertible network, 8 coupling blocks of growth 32",
        preset="invertible",
        parameters=2_025_120,
        flops_per_pixel=1.011e6,
        quality={"eval": {"cover_psnr": 40.42, "cover_ssim": 0.9829, "secret_psnr": 36.55, "secret_ssim": 0.9769, "key_cost_db": 0.9}},
        recipe=(
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 500 --lr 2e-4 --beta 0.5 --ssim-weight 0.015 "
            "--scramble-block-size 16 --epochs 24 --stop-after 4 --warmup-steps 300 --scramble-fraction 0.5 --checkpoint-dir runs/default/1",
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 500 --lr 2e-4 --beta 0.5 --ssim-weight 0.015 "
            "--scramble-block-size 16 --epochs 4 --warmup-steps 100 --scramble-fraction 0.75 --init-from runs/default/1/last.keras "
            "--checkpoint-dir runs/default/2",
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 500 --lr 1.5e-4 --beta 0.5 --ssim-weight 0.04 "
            "--scramble-block-size 16 --epochs 3 --warmup-steps 100 --scramble-fraction 1 --init-from runs/default/2/last.keras "
            "--checkpoint-dir runs/default/3",
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 500 --lr 1e-4 --beta 0.35 --ssim-weight 0.06 "
            "--epochs 2 --warmup-steps 50 --scramble-fraction 1 --seed 4 --init-from runs/default/3/last.keras "
            "--checkpoint-dir runs/default/4",
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 300 --lr 5e-5 --beta 0.35 --ssim-weight 0.06 "
            "--edge-weight 4 --epochs 6 --warmup-steps 50 --scramble-fraction 1 --seed 5 --dtype-policy mixed_bfloat16 "
            "--init-from runs/default/4/last.keras --checkpoint-dir runs/default/5",
            f"train.py {_COMMON} --preset invertible --image-size 64 --steps-per-epoch 300 --lr 5e-5 --beta 0.35 --ssim-weight 0.06 "
            "--edge-weight 4 --epochs 12 --warmup-steps 50 --scramble-fraction 1 --seed 9 --dtype-policy mixed_bfloat16 "
            "--init-from runs/default/5/last.keras --checkpoint-dir runs/default/7",
            "split_model.py runs/default/7/last.keras --out-dir checkpoints/default --force",
        ),
    ),
    "fast": ShippedModel(
        name="fast",
        description="for long videos on a CPU: the same invertible network with 4 coupling blocks of growth 16, a sixth of the FLOPs",
        preset="invertible-4x16",
        parameters=348_240,
        flops_per_pixel=0.174e6,
        quality={"eval": {"cover_psnr": 40.17, "cover_ssim": 0.9808, "secret_psnr": 36.66, "secret_ssim": 0.9801, "key_cost_db": 1.06}},
        recipe=(
            f"train.py {_COMMON} --preset invertible-4x16 --image-size 64 --steps-per-epoch 1000 --lr 2e-4 --beta 0.35 "
            "--ssim-weight 0.06 --edge-weight 4 --epochs 10 --warmup-steps 300 --scramble-fraction 1 --seed 1 "
            "--dtype-policy mixed_bfloat16 --checkpoint-dir runs/fast/1",
            f"train.py {_COMMON} --preset invertible-4x16 --image-size 64 --steps-per-epoch 1000 --lr 1e-4 --beta 0.35 "
            "--ssim-weight 0.06 --edge-weight 4 --epochs 4 --warmup-steps 100 --scramble-fraction 1 --seed 6 "
            "--dtype-policy mixed_bfloat16 --init-from runs/fast/1/last.keras --checkpoint-dir runs/fast/2",
            "split_model.py runs/fast/2/last.keras --out-dir checkpoints/fast --force",
        ),
    ),
}


# Recipes of trained variants that are not shipped (their measured trade is in checkpoints/README.md):
# ``train.py --recipe NAME`` runs them like a shipped model's.
EXPERIMENTAL_RECIPES = {
    # The later --train-dirs wins: 128x128 crops only from photos that size (not the 64x64 ones).
    "fast-adversarial": (
        "the fast model fine-tuned against a steganalysis CNN retrained as it goes (--adversarial-weight)",
        (f"train.py {_COMMON} --train-dirs ../shared/data/images/train/imagenet --preset invertible-4x16 --image-size 128 --steps-per-epoch 200 --lr 5e-5 --beta 0.35 "
         "--ssim-weight 0.06 --edge-weight 4 --epochs 6 --warmup-steps 50 --scramble-fraction 1 --seed 7 "
         "--dtype-policy mixed_bfloat16 --adversarial-weight 0.001 --init-from checkpoints/fast/steg_model.keras "
         "--checkpoint-dir runs/fast-adversarial/1",
         "split_model.py runs/fast-adversarial/1/last.keras --out-dir runs/fast-adversarial/split --force"),
    ),
}


def recipe(name: str) -> tuple:
    """The training commands of a shipped model or of an :data:`EXPERIMENTAL_RECIPES` entry.

    Raises:
        ValueError: for a name that is neither.
    """
    if name in EXPERIMENTAL_RECIPES:
        return EXPERIMENTAL_RECIPES[name][1]
    if name not in SHIPPED:
        raise ValueError(f"no recipe called {name!r}; choose one of {', '.join([*SHIPPED, *EXPERIMENTAL_RECIPES])}")
    return SHIPPED[name].recipe


def names() -> list[str]:
    return list(SHIPPED)


def get(name: str) -> ShippedModel:
    """The shipped model called ``name``.

    Raises:
        ValueError: for a name that is not shipped, listing those that are.
    """
    if name not in SHIPPED:
        raise ValueError(f"no shipped model called {name!r}; choose one of {', '.join(SHIPPED)} or give a .keras file")
    return SHIPPED[name]


def resolve(model, role: str) -> pathlib.Path:
    """What ``--model`` names: a shipped model's file for ``role``, or the path given.

    Raises:
        ValueError: for a shipped model whose file is missing, or a name that is neither a shipped
            model nor a file.
    """
    text = str(model)
    if text in SHIPPED:
        path = SHIPPED[text].path(role)
        if not path.is_file():
            raise ValueError(f"the {text!r} model's {path.name} is missing from {path.parent} (a partial checkout?)")
        return path
    path = pathlib.Path(model)
    if not path.suffix and not path.exists():
        raise ValueError(f"unknown model {text!r}: give a shipped model ({', '.join(names())}) or the path of a .keras file")
    return path
