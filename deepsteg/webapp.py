"""The web app (Gradio): hide and reveal images and videos, and enhance what was revealed.

The page runs what the scripts run (:mod:`deepsteg.imagesteg`, :mod:`deepsteg.videosteg`,
:mod:`deepsteg.enhance`) with the same defaults, so a container made in the page is byte for byte
the one ``image_hide.py`` writes for the same inputs. Containers are handed out as files to
download, never through Gradio's video player (it re-encodes to lossy H.264, which destroys a
container).

Care with files and load:

- uploads up to :attr:`Limits.upload_mb`; images up to :attr:`Limits.image_side` pixels a side,
  videos up to :attr:`Limits.video_side` and :attr:`Limits.video_frames` frames (longer videos:
  the first frames only, and the page says so);
- every job works in a folder of its own, removed when the job fails and, with its results, when
  the browser leaves; Gradio's copies of uploads and results are removed after
  :attr:`Limits.keep_minutes`;
- one queue per model: a job waits while another uses the same model (the network takes every
  core of a small machine);
- no path on the server comes from a user: inputs are uploads;
- a job that runs past :attr:`Limits.job_seconds` stops with a message;
- every error a user can cause (a lossy upload, a wrong key, a container of another model, a
  file that is not an image or a video) is a message in the page, never a traceback.

API endpoints, for ``gradio_client``: ``/hide_image(secret, cover, key)`` → container PNG,
``/reveal_image(container, key)`` → revealed PNG, ``/hide_video(secret, cover, key)`` → container
video (FFV1 ``.mkv``), ``/reveal_video(container, key)`` → revealed video (FFV1 ``.mkv``); an empty
key means none. They use the model the app was started with.
"""

import atexit
import contextlib
import dataclasses
import pathlib
import shutil
import tempfile
import threading
import time
import types

from deepsteg import cipher, zoo
from deepsteg.record import SKIP_HINT

CONTAINER_FORMATS = {"FFV1 (.mkv)": ".mkv", "x264rgb qp 0 (.mp4)": ".mp4"}


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one job may ask of the server.

    Attributes:
        upload_mb: largest upload.
        image_side: longest side of an image, in pixels.
        video_side: longest side of a video frame, in pixels.
        video_frames: frames of a video processed at most (the first ones).
        job_seconds: a job that runs longer stops with a message.
        keep_minutes: Gradio's copies of uploads and results are deleted after this long.
    """

    upload_mb: int = 200
    image_side: int = 4096
    video_side: int = 1920
    video_frames: int = 300
    job_seconds: int = 1800
    keep_minutes: int = 60


class UserError(ValueError):
    """An error caused by what the user gave; shown in the page."""


class TimeLimit:
    """Raises :class:`UserError` once a job has run ``seconds``; also reports progress."""

    def __init__(self, seconds: float, progress=None, total: int | None = None, description: str = ""):
        self.deadline, self.seconds = time.monotonic() + seconds, seconds
        self.progress, self.total, self.description = progress, total, description

    def __call__(self, frames: int):
        if time.monotonic() > self.deadline:
            raise UserError(f"the job ran past the app's limit of {self.seconds:.0f} s; try a shorter video or a smaller frame size")
        if self.progress is not None:
            if self.total:
                self.progress((min(frames, self.total), self.total), desc=self.description, unit="frames")
            else:
                self.progress(None, desc=f"{self.description}: {frames} frames")


class App:
    """The app's state: networks by model and role, one lock per model, job folders by browser.

    Args:
        model: the model the page starts with and the API uses (a shipped name or a path).
        models: the models the page offers (default: the shipped ones, and ``model``).
        limits: :class:`Limits`.
        work_root: where job folders go (default: a new temporary folder).
    """

    def __init__(self, model: str = "default", models=None, limits: Limits = Limits(), work_root=None):
        self.model = str(model)
        self.models = list(dict.fromkeys([*(models or zoo.names()), self.model]))
        self.limits = limits
        if work_root is None:
            work_root = tempfile.mkdtemp(prefix="deepsteg-app-")
            atexit.register(shutil.rmtree, work_root, True)
        self.work_root = pathlib.Path(work_root)
        self._networks: dict = {}
        self._locks = {name: threading.Lock() for name in self.models}
        self._guard = threading.Lock()

    # Networks and folders -------------------------------------------------------------------

    def _lock(self, model: str) -> threading.Lock:
        if model not in self._locks:
            raise UserError(f"unknown model {model!r}; choose one of {', '.join(self.models)}")
        return self._locks[model]

    def network(self, model: str, role: str):
        self._lock(model)  # a model the page offers
        from deepsteg import inference

        with self._guard:
            if (model, role) not in self._networks:
                self._networks[(model, role)] = inference.load_network(model, role, "auto", "auto")
            return self._networks[(model, role)]

    @contextlib.contextmanager
    def using(self, model: str, progress=None):
        """Holds the model's lock (one job per model at a time)."""
        lock = self._lock(model)
        if not lock.acquire(blocking=False):
            if progress is not None:
                progress(None, desc="waiting: another job is using this model")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def visitor_folder(self, request, create: bool = True) -> pathlib.Path:
        """The folder of one visitor's jobs (Gradio names each open page; API calls share one)."""
        name = getattr(request, "session_hash", None) or "api"
        folder = self.work_root / "".join(character for character in str(name) if character.isalnum())[:64]
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    @contextlib.contextmanager
    def job_folder(self, request):
        """A new folder for one job's files; removed if the job fails (its results stay until
        the browser leaves)."""
        folder = pathlib.Path(tempfile.mkdtemp(prefix="job-", dir=self.visitor_folder(request)))
        try:
            yield folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def forget(self, request):
        """Removes every file of one visitor (called when their browser leaves the page)."""
        if getattr(request, "session_hash", None):
            shutil.rmtree(self.visitor_folder(request, create=False), ignore_errors=True)

    # Input checks ---------------------------------------------------------------------------

    def check_image(self, path, what: str) -> pathlib.Path:
        from deepsteg import imageio

        if not path:
            raise UserError(f"upload the {what} first")
        path = pathlib.Path(path)
        image = imageio.read_image(path)
        if max(image.shape[:2]) > self.limits.image_side:
            raise UserError(f"the {what} is {image.shape[1]}x{image.shape[0]}: this app takes images up to "
                            f"{self.limits.image_side} pixels a side")
        return path

    def check_video(self, path, what: str) -> pathlib.Path:
        from deepsteg import videoio

        if not path:
            raise UserError(f"upload the {what} first")
        path = pathlib.Path(path)
        info = videoio.probe(path)
        if max(info.width, info.height) > self.limits.video_side:
            raise UserError(f"the {what} is {info.width}x{info.height}: this app takes videos up to {self.limits.video_side} "
                            f"pixels a side")
        return path

    def _job_frames(self, path) -> int | None:
        """How many frames of ``path`` a job processes, as far as its header tells."""
        frames = _header_frames(path)
        return min(frames, self.limits.video_frames) if frames else None

    # Jobs -----------------------------------------------------------------------------------

    def hide_image(self, secret, cover, key="", block_size=cipher.DEFAULT_BLOCK_SIZE, model=None, request=None):
        """Returns (container PNG path, metrics markdown, difference x10, error histogram PNG path)."""
        from deepsteg import imagesteg, metrics, reports

        model = model or self.model
        secret, cover = self.check_image(secret, "secret"), self.check_image(cover, "cover")
        key, block_size = _key(key), _block_size(block_size)
        with self.job_folder(request) as folder, self.using(model):
            result = imagesteg.hide_image(self.network(model, "hide"), secret, cover, folder / "container.png", key=key,
                                          block_size=block_size)
            histogram = reports.plot_error_histogram(folder / "errors.png", result["cover"], result["container"],
                                                     "container - cover")
        text = (f"**Cover PSNR {result['cover_psnr']:.2f} dB, SSIM {result['cover_ssim']:.4f}** "
                f"({result['container'].shape[1]}x{result['container'].shape[0]}, model `{model}`"
                f"{', key used' if key else ', no key'})" + "".join(f"\n\n{note}" for note in result["notes"]))
        return str(result["path"]), text, metrics.difference_image(result["cover"], result["container"]), str(histogram)

    def reveal_image(self, container, key="", block_size=None, model=None, original=None, request=None):
        """Returns (revealed PNG path, revealed image, metrics markdown)."""
        from deepsteg import imagesteg

        model = model or self.model
        container = self.check_image(container, "container")
        original = self.check_image(original, "original secret") if original else None
        with self.job_folder(request) as folder, self.using(model):
            result = imagesteg.reveal_image(self.network(model, "reveal"), container, folder / "revealed.png", key=_key(key),
                                            block_size=_block_size(block_size) if block_size else None, original=original)
        revealed = result["revealed"]
        text = f"Revealed a {revealed.shape[1]}x{revealed.shape[0]} secret with model `{model}`."
        if "secret_psnr" in result:
            text += f" **Secret PSNR {result['secret_psnr']:.2f} dB, SSIM {result['secret_ssim']:.4f}** against the original."
        text += "".join(f"\n\n{note}" for note in result["notes"])
        return str(result["path"]), revealed, text

    def hide_video(self, secret, cover, key="", block_size=cipher.DEFAULT_BLOCK_SIZE, model=None, container_format=".mkv",
                   progress=None, request=None):
        """Returns (container video path, metrics markdown, per-frame plot PNG path)."""
        from deepsteg import metrics, reports, videosteg

        model = model or self.model
        secret, cover = self.check_video(secret, "secret video"), self.check_video(cover, "cover video")
        if container_format not in CONTAINER_FORMATS.values():
            raise UserError(f"unknown container format {container_format!r}")
        key, block_size = _key(key), _block_size(block_size)
        with self.job_folder(request) as folder, self.using(model, progress):
            frames = [_header_frames(path) for path in (secret, cover)]
            known = [count for count in frames if count]
            limit = TimeLimit(self.limits.job_seconds, progress, min(known + [self.limits.video_frames]) if known else None, "hiding")
            result = videosteg.hide_video(self.network(model, "hide"), secret, cover, folder / f"container{container_format}", key=key,
                                          block_size=block_size, max_frames=self.limits.video_frames, ssim=True, on_progress=limit)
            plot = reports.plot_per_frame(folder / "container_quality.png", result["rows"], "container vs cover, per frame")
        stats = metrics.summarize(result["rows"], "cover")
        text = (f"**{result['frames']} frames hidden; cover PSNR mean {stats['cover_psnr']:.2f} dB (min {stats['cover_psnr_min']:.2f}), "
                f"SSIM mean {stats['cover_ssim']:.4f}** ({result['container_size'][0]}x{result['container_size'][1]}, model `{model}`"
                f"{', key used' if key else ', no key'}, {result['seconds']:.0f} s). Download the container: it is lossless, and "
                f"re-encoding it (or playing it through a site that converts videos) destroys the secret.")
        if result["frames"] >= self.limits.video_frames and (not known or min(known) > self.limits.video_frames):
            text += f"\n\nThis app hides the first {self.limits.video_frames} frames; use video_hide.py for longer videos."
        elif result["ended"] in ("cover", "secret"):
            text += f"\n\nThe {result['ended']} video ended first: {result['frames']} frames were hidden."
        return str(folder / f"container{container_format}"), text, str(plot)

    def reveal_video(self, container, key="", block_size=None, model=None, original=None, progress=None, request=None):
        """Returns (revealed video path, metrics markdown, per-frame plot PNG path or None)."""
        from deepsteg import metrics, reports, videosteg

        model = model or self.model
        container = self.check_video(container, "container video")
        original = self.check_video(original, "original secret video") if original else None
        with self.job_folder(request) as folder, self.using(model, progress):
            limit = TimeLimit(self.limits.job_seconds, progress, self._job_frames(container), "revealing")
            result = videosteg.reveal_video(self.network(model, "reveal"), container, folder / "revealed.mkv", key=_key(key),
                                            block_size=_block_size(block_size) if block_size else None, original=original,
                                            max_frames=self.limits.video_frames, on_progress=limit)
            plot = None
            if original is not None:
                plot = str(reports.plot_per_frame(folder / "secret_quality.png", result["rows"], "revealed vs original secret, per frame"))
        text = f"**{result['frames']} frames revealed** with model `{model}` in {result['seconds']:.0f} s."
        if original is not None:
            stats = metrics.summarize(result["rows"], "secret")
            text += (f" Secret PSNR mean {stats['secret_psnr']:.2f} dB (min {stats['secret_psnr_min']:.2f}), "
                     f"SSIM mean {stats['secret_ssim']:.4f} against the original.")
        return str(folder / "revealed.mkv"), text, plot

    def enhance(self, revealed, original=None, progress=None, request=None):
        """Returns (enhanced file path, metrics markdown): an image in, a PNG out; a video in, FFV1 out."""
        from deepsteg import enhance, metrics, videoio, videosteg

        if not revealed:
            raise UserError("upload the revealed image or video first")
        is_video = pathlib.Path(revealed).suffix.lower() in videoio.VIDEO_EXTENSIONS
        if is_video:
            revealed = self.check_video(revealed, "revealed video")
            original = self.check_video(original, "original secret video") if original else None
        else:
            revealed = self.check_image(revealed, "revealed image")
            original = self.check_image(original, "original secret") if original else None
        with self.job_folder(request) as folder:
            if is_video:
                output = folder / "enhanced.mkv"
                rows = videosteg.enhance_video(revealed, output, original=original, max_frames=self.limits.video_frames,
                                               on_progress=TimeLimit(self.limits.job_seconds, progress, self._job_frames(revealed),
                                                                     "enhancing"))
            else:
                output = folder / "enhanced.png"
                rows = enhance.enhance_image_file(revealed, output, original=original)
        text = f"Enhanced {len(rows)} frame{'s' if len(rows) != 1 else ''} (the enhance.py defaults for {'videos' if is_video else 'images'})."
        if "before_psnr" in rows[0]:
            before, after = metrics.summarize(rows, "before"), metrics.summarize(rows, "after")
            text += (f" **Against the original: PSNR {before['before_psnr']:.2f} → {after['after_psnr']:.2f} dB, "
                     f"SSIM {before['before_ssim']:.4f} → {after['after_ssim']:.4f}.**")
        if not is_video:
            text += " Still images are not denoised by default (it lowered the PSNR of every revealed photo measured)."
        return str(output), text


def _key(key) -> str | None:
    key = (key or "").strip()
    return key or None


def _block_size(value) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise UserError(f"the block size must be a whole number, got {value!r}") from None
    if size < 1:
        raise UserError(f"the block size must be positive, got {size}")
    return size


def _header_frames(path) -> int | None:
    """A video's frame count as its header gives it (for the progress bar and notes only); None
    when the header does not say."""
    import av

    try:
        with av.open(str(path)) as container:
            return container.streams.video[0].frames or None
    except (av.FFmpegError, IndexError):
        return None


def page_message(error: Exception) -> str:
    """An error's message in the page's words: the scripts' flags become the page's fields."""
    message = str(error).strip() or type(error).__name__
    for hint in (" (pass --skip-checks to write it anyway)", " (or --skip-checks to write it anyway)", f" ({SKIP_HINT})", f"; {SKIP_HINT}",
                 f", or {SKIP_HINT}"):
        message = message.replace(hint, "")
    for flag, field in (("--key", "key"), ("--block-size", "block size"), ("--model", "model")):
        message = message.replace(flag, field)
    return message


def _in_page(function):
    """Wraps a job so that every error a user can cause becomes a message in the page."""
    import functools

    import gradio as gr

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, OSError) as error:
            raise gr.Error(page_message(error), print_exception=False) from None
        except Exception as error:
            raise gr.Error(f"internal error ({type(error).__name__}): {error}", print_exception=True) from None

    return wrapper


def _job_tab(gr, name: str, uploads, action: str, result_label: str, extra=None):
    """The layout every tab shares, inside its ``gr.Tab``: a row of uploads, the action button, the
    result to download and a line of metrics. Element ids are ``NAME-SUFFIX`` for the uploads,
    ``NAME-button``, ``NAME-result`` and ``NAME-metrics`` (the browser test finds them so).

    Args:
        uploads: ``(label, file types, id suffix)`` for each upload.
        extra: optional function making one more component, above the button.

    Returns:
        a namespace with ``uploads`` (a list), ``extra``, ``button``, ``result`` and ``metrics``.
    """
    with gr.Row():
        files = [gr.File(label=label, file_types=types, elem_id=f"{name}-{suffix}") for label, types, suffix in uploads]
    made = extra() if extra is not None else None
    return types.SimpleNamespace(uploads=files, extra=made, button=gr.Button(action, variant="primary", elem_id=f"{name}-button"),
                                 result=gr.File(label=result_label, elem_id=f"{name}-result"),
                                 metrics=gr.Markdown(elem_id=f"{name}-metrics"))


def build(app: App):
    """The Gradio page and API of ``app`` (a ``gradio.Blocks``)."""
    import gradio as gr

    limits = app.limits
    queue = {"concurrency_id": "network", "concurrency_limit": len(app.models)}  # one job per model: App.using
    image_types = [".png", ".bmp", ".tif", ".tiff", ".ppm", ".jpg", ".jpeg", ".webp"]
    video_types = [".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".y4m"]
    with gr.Blocks(title="Deep video steganography", delete_cache=(600, limits.keep_minutes * 60)) as page:
        gr.Markdown("# Deep video steganography\nHide a secret image or video inside a cover, and reveal it again. "
                    f"Limits: uploads up to {limits.upload_mb} MB, images up to {limits.image_side} px a side, videos up to "
                    f"{limits.video_side} px and the first {limits.video_frames} frames, {limits.job_seconds // 60} minutes a job. "
                    "Containers are lossless files: download them, never re-encode them.")
        with gr.Row():
            model = gr.Dropdown(app.models, value=app.model, label="Model", info="`fast` is 4-5x faster; `default` keeps the cover better")
            key = gr.Textbox(label="Key (optional)", type="password", info="the receiver needs the same key; empty: none")
            block_size = gr.Number(value=cipher.DEFAULT_BLOCK_SIZE, precision=0, minimum=1, label="Block size of the key's scrambling")
        with gr.Tab("Hide image"):
            hide_image_tab = _job_tab(gr, "hide-image", [("Secret image", image_types, "secret"), ("Cover image", image_types, "cover")],
                                      "Hide", "Container (PNG, download it)")
            with gr.Row():
                difference = gr.Image(label="Difference x10 (container - cover)", interactive=False)
                histogram = gr.Image(label="Error histogram", interactive=False)
        with gr.Tab("Reveal image"):
            reveal_image_tab = _job_tab(gr, "reveal-image", [("Container image (the PNG from Hide)", image_types, "container"),
                                                             ("Original secret (optional, for PSNR/SSIM)", image_types, "original")],
                                        "Reveal", "Revealed secret (PNG)")
            revealed_preview = gr.Image(label="Revealed secret", interactive=False)
        with gr.Tab("Hide video"):
            hide_video_tab = _job_tab(gr, "hide-video", [("Secret video", video_types, "secret"), ("Cover video", video_types, "cover")],
                                      "Hide", "Container video (download it)",
                                      extra=lambda: gr.Radio(list(CONTAINER_FORMATS), value=list(CONTAINER_FORMATS)[0],
                                                             label="Container format (lossless)"))
            hide_video_plot = gr.Image(label="Per-frame cover PSNR / SSIM", interactive=False)
        with gr.Tab("Reveal video"):
            reveal_video_tab = _job_tab(gr, "reveal-video", [("Container video (the file from Hide video)", video_types, "container"),
                                                             ("Original secret video (optional, for PSNR/SSIM)", video_types, "original")],
                                        "Reveal", "Revealed secret video (FFV1 .mkv)")
            reveal_video_plot = gr.Image(label="Per-frame secret PSNR / SSIM", interactive=False)
        with gr.Tab("Enhance"):
            enhance_tab = _job_tab(gr, "enhance", [("Revealed image or video", image_types + video_types, "input"),
                                                   ("Original secret (optional, for before/after)", image_types + video_types, "original")],
                                   "Enhance", "Enhanced (lossless)")

        def hide_image_page(secret, cover, key, block_size, model, request: gr.Request):
            return app.hide_image(secret, cover, key, block_size, model, request=request)

        def reveal_image_page(container, key, block_size, model, original, request: gr.Request):
            return app.reveal_image(container, key, block_size, model, original, request=request)

        def hide_video_page(secret, cover, key, block_size, model, container_format, request: gr.Request, progress=gr.Progress()):
            return app.hide_video(secret, cover, key, block_size, model, CONTAINER_FORMATS[container_format], progress, request=request)

        def reveal_video_page(container, key, block_size, model, original, request: gr.Request, progress=gr.Progress()):
            return app.reveal_video(container, key, block_size, model, original, progress, request=request)

        def enhance_page(revealed, original, request: gr.Request, progress=gr.Progress()):
            return app.enhance(revealed, original, progress, request=request)

        private = {"api_visibility": "private", **queue}
        hide_image_tab.button.click(_in_page(hide_image_page), [*hide_image_tab.uploads, key, block_size, model],
                                    [hide_image_tab.result, hide_image_tab.metrics, difference, histogram], **private)
        reveal_image_tab.button.click(_in_page(reveal_image_page), [reveal_image_tab.uploads[0], key, block_size, model,
                                                                    reveal_image_tab.uploads[1]],
                                      [reveal_image_tab.result, revealed_preview, reveal_image_tab.metrics], **private)
        hide_video_tab.button.click(_in_page(hide_video_page), [*hide_video_tab.uploads, key, block_size, model, hide_video_tab.extra],
                                    [hide_video_tab.result, hide_video_tab.metrics, hide_video_plot], **private)
        reveal_video_tab.button.click(_in_page(reveal_video_page), [reveal_video_tab.uploads[0], key, block_size, model,
                                                                    reveal_video_tab.uploads[1]],
                                      [reveal_video_tab.result, reveal_video_tab.metrics, reveal_video_plot], **private)
        enhance_tab.button.click(_in_page(enhance_page), enhance_tab.uploads, [enhance_tab.result, enhance_tab.metrics],
                                 api_visibility="private", concurrency_id="enhance", concurrency_limit=1)

        # The API: the names and arguments the module docstring lists, on the app's model.
        def hide_image_api(secret, cover, key, request: gr.Request):
            return app.hide_image(secret, cover, key, request=request)[0]

        def reveal_image_api(container, key, request: gr.Request):
            return app.reveal_image(container, key, request=request)[0]

        def hide_video_api(secret, cover, key, request: gr.Request):
            return app.hide_video(secret, cover, key, request=request)[0]

        def reveal_video_api(container, key, request: gr.Request):
            return app.reveal_video(container, key, request=request)[0]

        with gr.Column(visible=False):
            api_files = [gr.File() for _ in range(3)]
            api_key, api_output = gr.Textbox(), gr.File()
            for function, inputs in ((hide_image_api, [api_files[0], api_files[1], api_key]), (reveal_image_api, [api_files[2], api_key]),
                                     (hide_video_api, [api_files[0], api_files[1], api_key]), (reveal_video_api, [api_files[2], api_key])):
                gr.Button().click(_in_page(function), inputs, api_output, api_name=function.__name__.removesuffix("_api"), **queue)
        def forget(request: gr.Request):
            app.forget(request)

        page.unload(forget)
    return page


def launch(app: App, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Builds and serves the page; returns the ``gradio.Blocks`` (already serving when ``block`` is False)."""
    page = build(app)
    page.queue(default_concurrency_limit=1)
    page.launch(server_name=host, server_port=port, max_file_size=f"{app.limits.upload_mb}mb", prevent_thread_lock=not block,
                allowed_paths=[str(app.work_root)], show_error=True, quiet=not block)
    return page
