%% The persistent_term keys of the path decision (heirloom_path): the
%% default node's path, read inline by heirloom's hottest calls, and each
%% node's.
-define(DEFAULT_PATH, 'heirloom$default_path').
-define(NODE_PATH(Node), {heirloom, path, Node}).
