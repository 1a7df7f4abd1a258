"""First-party capability plugins (points, aid, learning, wellbeing, afterschool).

Each is loaded through the ``jizuo.plugins`` entry-point group, the same way a third-party plugin is, and
uses only foundation's public plugin API. The plugin host (hookspecs, app square) is the next layer.
"""
