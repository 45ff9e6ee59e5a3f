"""Benchmark the reference MLP GAN (Lab03): quality within a time budget, and the harness's speed.

Target on a 2-core CPU: MNIST score >= 8.5 with every digit between 5% and 15% within 10 minutes
of training, and the harness at most 1.1x slower than a plain tf.function loop.

    python bench/bench_mlp_gan.py [--minutes 10] [--timing-steps 300] [--skip-quality]
"""

from gan_benchmark import benchmark_parser, run_benchmark

if __name__ == "__main__":
    arguments = benchmark_parser(__doc__.splitlines()[0], default_minutes=10.0).parse_args()
    run_benchmark("mlp", arguments, score_target=8.5)
