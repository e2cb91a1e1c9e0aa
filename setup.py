"""The one thing setup.cfg cannot say: packages found under gspws/ *plus* the two mapped there
from the top level (package_dir in setup.cfg), so a new subpackage needs no edit here."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["gspws", "gspws.*"]), "gspws.migrations", "gspws.wsdl"])
