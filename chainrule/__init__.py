"""The ``chainrule`` command line: the teaching demo and friends, on top of autograd, nn and viz."""

from autograd import __version__ as __version__
