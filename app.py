"""Serve the web app: hide and reveal images and videos, and enhance what was revealed, in a browser.

Example:
    python app.py                      # then open http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080 --model fast
"""

from __future__ import annotations

import sys

from deepsteg import cli


def parse_args(argv):
    from deepsteg import zoo

    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface; the app has no login)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on")
    parser.add_argument("--model", default="default", help=f"model the page starts with and the API uses: {', '.join(zoo.names())} or a path")
    parser.add_argument("--upload-mb", type=int, default=200, help="largest upload in MB")
    parser.add_argument("--video-frames", type=int, default=300, help="frames of a video processed at most (the first ones)")
    parser.add_argument("--job-minutes", type=int, default=30, help="a job that runs longer stops with a message")
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    for name in ("port", "upload_mb", "video_frames", "job_minutes"):
        cli.positive(name, getattr(args, name))
    from deepsteg import inference, webapp

    for role in ("hide", "reveal"):
        inference.load_network(args.model, role, "auto", "auto")  # a wrong --model fails here, before the server starts
    limits = webapp.Limits(upload_mb=args.upload_mb, video_frames=args.video_frames, job_seconds=args.job_minutes * 60)
    print(f"serving on http://{args.host}:{args.port} (model {args.model}; Ctrl+C stops)")
    webapp.launch(webapp.App(args.model, limits=limits), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
