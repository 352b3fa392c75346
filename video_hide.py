"""Hide a secret video inside a cover video, frame by frame, in a lossless container video.

Example:
    python video_hide.py secret.mp4 cover.mp4 -o stego.mkv --key "shared phrase" --csv stego.csv --plot stego.png
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("secret", type=pathlib.Path, help="video to hide (resized to the cover's size)")
    parser.add_argument("cover", type=pathlib.Path, help="video to hide it in (sets size and frame rate)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="container video: .mkv (FFV1), .mp4 (x264rgb qp 0), .avi (HuffYUV), .mov (PNG)")
    cli.add_video_output_flags(parser, "cover")
    parser.add_argument("--no-audio", action="store_true", help="do not copy the cover's audio track")
    cli.add_steganography_flags(parser, "hide", video=True)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_steganography_args(args)
    from deepsteg import engines, files, inference, reports, videoio, videosteg

    cli.check_video_outputs(args, inputs=[args.secret, args.cover, args.model])
    videoio.probe(args.secret)
    videoio.probe(args.cover)
    hide_network = inference.load_network(args.model, "hide", args.engine, args.precision)
    with files.transaction():
        result = videosteg.hide_video(hide_network, args.secret, args.cover, args.output, key=args.key, block_size=args.block_size,
                                      batch_size=args.batch_size, max_frames=args.max_frames, codec=args.codec, force=args.force,
                                      copy_audio=not args.no_audio, ssim=bool(args.csv or args.plot))
        if args.csv:
            reports.write_csv(args.csv, result["rows"], force=args.force)
        if args.plot:
            reports.plot_per_frame(args.plot, result["rows"], f"{args.output.name}: container vs cover", force=args.force)
    cover, secret = result["cover"], result["secret"]
    if (secret.width, secret.height) != (cover.width, cover.height):
        print(f"note: secret frames {secret.width}x{secret.height} were resized to the cover's {cover.width}x{cover.height}")
    if result["container_size"] != (cover.width, cover.height):
        width, height = result["container_size"]
        print(f"note: the cover has an odd side: the container is {width}x{height}, one mirrored row or column more, "
              f"and reveals {cover.width}x{cover.height} frames")
    if result["ended"] in ("cover", "secret") and args.max_frames != result["frames"]:
        print(f"note: the {result['ended']} video ended first; hid {result['frames']} frames (the shorter video's length)")
    print(f"wrote {args.output} ({result['container_size'][0]}x{result['container_size'][1]} @ {float(cover.fps):.3f} fps, lossless, "
          f"verified bit-exact): " + videosteg.format_summary(result, "cover") + f"; {engines.describe(hide_network)}")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
