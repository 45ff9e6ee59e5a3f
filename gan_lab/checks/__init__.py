"""Feedback checks for the labs: each prints one success line or raises CheckFailed with a hint."""

from ._harness import CheckFailed
from .lab01 import check_build_generator, check_sample_noise
from .lab02 import check_build_discriminator, check_discriminator_loss, check_generator_loss
from .lab03 import check_frechet_distance, check_inception_score, check_train_step
from .lab04 import check_build_dcgan_discriminator, check_build_dcgan_generator
from .lab05 import check_feature_matching_loss, check_minibatch_discrimination, check_smoothed_discriminator_loss
from .lab06 import (
    check_build_conditional_discriminator,
    check_build_conditional_generator,
    check_conditional_train_step,
)

__all__ = [
    "CheckFailed",
    "check_build_conditional_discriminator",
    "check_build_conditional_generator",
    "check_build_dcgan_discriminator",
    "check_build_dcgan_generator",
    "check_build_discriminator",
    "check_build_generator",
    "check_conditional_train_step",
    "check_discriminator_loss",
    "check_feature_matching_loss",
    "check_frechet_distance",
    "check_generator_loss",
    "check_inception_score",
    "check_minibatch_discrimination",
    "check_sample_noise",
    "check_smoothed_discriminator_loss",
    "check_train_step",
]
