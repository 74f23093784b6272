"""Shims over the Wagtail versions this app supports."""

try:  # Wagtail 8 lets a project swap the Page model.
    import swapper

    PAGE_MODEL = swapper.get_model_name("wagtailcore", "Page")
    PAGE_MODEL_DEPENDENCY = swapper.dependency("wagtailcore", "Page")
except ImportError:  # Wagtail 7.4
    PAGE_MODEL = "wagtailcore.Page"
    PAGE_MODEL_DEPENDENCY = ("wagtailcore", "0001_initial")
