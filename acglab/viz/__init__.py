"""Interactive figures for the notebooks: ipywidgets sliders driving plotly ``FigureWidget``s
that update in place. Each topic has its own module (for example :mod:`acglab.viz.gan_widgets`);
import the one you need."""
