"""What a change page offers: a workflow step as a link, or as a button of its change form."""


def offers_step(page: str, url: str) -> bool:
    """Return True if the page's workflow panel lets the user start the step at `url`."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return f'href="{url}"' in page or f'name="_take_step" value="{name}"' in page
