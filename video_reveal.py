"""Reveal the secret video hidden in a lossless container video, frame by frame.

Example:
    python video_reveal.py stego.mkv -o revealed.mkv --key "shared phrase" --original secret.mp4 --csv revealed.csv
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("stego", type=pathlib.Path, help="container video written by video_hide.py")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="revealed video: .mkv (FFV1), .mp4 (x264rgb qp 0), .avi (HuffYUV), .mov (PNG)")
    parser.add_argument("--original", type=pathlib.Path, default=None, help="the original secret video, for per-frame secret PSNR/SSIM")
    cli.add_video_output_flags(parser, "secret")
    cli.add_steganography_flags(parser, "reveal", video=True)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_steganography_args(args)
    if (args.csv or args.plot) and args.original is None:
        raise cli.CliError("--csv and --plot report secret quality and need --original SECRET_VIDEO")
    from deepsteg import engines, files, inference, reports, videoio, videosteg

    cli.check_video_outputs(args, inputs=[args.stego, args.model, args.original])
    info = videoio.probe(args.stego)
    if args.original is not None:
        videoio.probe(args.original)
    reveal_network = inference.load_network(args.model, "reveal", args.engine, args.precision)
    with files.transaction():
        result = videosteg.reveal_video(reveal_network, args.stego, args.output, key=args.key, block_size=args.block_size,
                                        batch_size=args.batch_size, max_frames=args.max_frames, codec=args.codec, force=args.force,
                                        original=args.original, checks=not args.skip_checks)
        if args.csv:
            reports.write_csv(args.csv, result["rows"], force=args.force)
        if args.plot:
            reports.plot_per_frame(args.plot, result["rows"], f"{args.output.name}: revealed vs original secret", force=args.force)
    if result["record"] is None:
        print(f"note: {args.stego.name} has no container record (made by an older version or another program): its frames "
              f"and model could not be checked")
    record = result["record"]
    width, height = (record.width, record.height) if record is not None else (info.width, info.height)
    print(f"wrote {args.output} ({width}x{height} @ {float(info.fps):.3f} fps, lossless): "
          + videosteg.format_summary(result, "secret") + f"; {engines.describe(reveal_network)}")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
