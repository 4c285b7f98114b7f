"""The guided path through the labs: a table of steps, and the strip each page shows on top.

A step names its page, the preset it opens with (as a URL parameter the page already
reads: `preset` for the playground, `lab` for the latent lab), and one sentence on what
to watch. `lesson_strip(page)` draws, on a page that is a step, "Step i of n", that
sentence and a link to the next step; the home page's "Start here" opens step 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import projector


@dataclass(frozen=True)
class Lesson:
    """One step of the path: `page` is a file path from the app's root (as st.page_link
    takes it), `query` the URL parameters that load its preset."""

    key: str
    title: str
    page: str
    watch: str
    query: dict[str, str] = field(default_factory=dict)


# The order a class meets the ideas: the GAN game in 1-D, then in 2-D, what goes wrong
# (collapse), what the latent space does, real images, and a trained model's latent space.
LESSONS: tuple[Lesson, ...] = (
    Lesson("1d", "The GAN game in 1-D", "pages/0_GAN_in_1D.py",
           "Press Play: D (blue) rises where the data is, G's green bump slides towards the data, "
           "and D flattens towards 1/2 as G matches the data: it can no longer tell real from fake.",
           {"preset": "gan1d"}),
    Lesson("2d", "Eight blobs in 2-D", "pages/1_Gaussian_playground.py",
           "Press Play: the orange samples spread out until they cover all eight blobs, and the heat "
           "map (D's opinion) fades to an even colour.", {"preset": "ring8"}),
    Lesson("collapse", "Mode collapse", "pages/1_Gaussian_playground.py",
           "A plain GAN on the ring: the samples pile onto one blob, D learns that blob is fake, "
           "and they hop to the next instead of covering the ring.", {"preset": "collapse"}),
    Lesson("latent", "The latent dimension", "pages/2_Latent_lab.py",
           "Four runs side by side: with a 1-D latent G can only draw a curve; from 2 latent dimensions "
           "on, its samples fill the plane.", {"lab": "latent-sweep"}),
    Lesson("digits", "Digits", "pages/3_MNIST_studio.py",
           "Press Start new run: the grid of digits begins as noise; strokes, then recognisable digits "
           "appear within a minute or two."),
    Lesson("explorer", "A trained GAN's latent space", "pages/4_Latent_explorer.py",
           "Move through a trained generator's latent space: nearby points give similar images, and a "
           "straight walk morphs one image into another."),
)


def lesson(key: str) -> Lesson:
    """The step named `key`; KeyError for an unknown one (a programming error)."""
    return next(s for s in LESSONS if s.key == key)


def current(page: str, query: dict[str, str]) -> int | None:
    """The index of the step this page shows: the step on `page` whose URL parameters
    all match `query` (the most specific first), else None."""
    candidates = [(i, s) for i, s in enumerate(LESSONS) if s.page == page
                  and all(query.get(k) == v for k, v in s.query.items())]
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c[1].query))[0]


def link(step: Lesson, label: str | None = None) -> None:
    """A page link that opens `step` with its preset."""
    try:
        st.page_link(step.page, label=label or step.title, query_params=step.query or None,
                     icon=":material/arrow_forward:")
    except StreamlitAPIException:
        # A page run on its own (`streamlit run pages/...`, AppTest) knows no other page.
        st.caption(f"{label or step.title} (open it from the sidebar)")


def lesson_strip(page: str, at: dict[str, str] | None = None) -> None:
    """On a page of the path: the step's number, what to watch and a link to the next one.

    `page` is the page's own file path from the app's root (e.g. "pages/0_GAN_in_1D.py").
    Nothing is drawn on a page that the URL does not put on the path.
    `at`: the URL parameters of the preset now in force on the page ({} when the user
    changed its settings by hand); a step whose preset is not in force says so, with a
    link that loads it again, instead of what to watch (which no longer holds).
    """
    # Pages rewrite their URL from their settings (the preset parameter goes), so the
    # step found on arrival is remembered for the session.
    remembered = f"lesson.at.{page}"
    i = current(page, st.query_params.to_dict())
    if i is None:
        i = st.session_state.get(remembered)
        if i is None:
            return
        # On the path, a preset of another step of this page (Mode collapse after Eight
        # blobs) is that step.
        if at and (other := current(page, at)) is not None:
            i = other
    st.session_state[remembered] = i
    step = LESSONS[i]
    # On a projector the teacher says what to watch: one line (the step and the next link),
    # so the main view stays above the fold at 1280 x 720.
    compact = projector.is_on()
    box = st.container(border=not compact)
    cols = box.columns([3, 2], vertical_alignment="center")  # the longest "Next: ..." whole at 1280 px
    heading = f"**Step {i + 1} of {len(LESSONS)}: {step.title}.**"
    if at is not None and any(at.get(k) != v for k, v in step.query.items()):
        cols[0].markdown(heading + " You changed this step's settings, so what it shows may differ.")
        with cols[1]:
            link(step, f"Back to step {i + 1}")
        return
    cols[0].markdown(heading + ("" if compact else f" {step.watch}"))
    with cols[1]:
        if i + 1 < len(LESSONS):
            link(LESSONS[i + 1], f"Next: {LESSONS[i + 1].title}")
        else:
            st.caption("The end of the path: back to the Home page for the other labs.")
