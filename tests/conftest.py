"""Unit-test settings: the long GPU-difference passes start as soon as the tests are collected."""


def pytest_collection_finish(session):
    """Start the passes of test_outputs_hold_on_a_gpu now when its tests are selected, so they run beside the rest."""
    if session.config.option.collectonly:
        return
    modules = {item.module for item in session.items if getattr(item, "module", None) is not None}
    for module in modules:
        if module.__name__ == "test_outputs_hold_on_a_gpu":
            module.start_passes(session.config)
