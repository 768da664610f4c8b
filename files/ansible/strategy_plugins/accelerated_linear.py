"""Ansible's 'linear' strategy, through Mitogen when it is installed (accelerated.py says how)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from accelerated import strategy_class

StrategyModule = strategy_class("linear")
