"""Host adapters: command line, QGIS Processing provider, PDAL stage.  Only here are qgis and pdal imported."""
