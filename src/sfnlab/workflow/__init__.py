"""The workflow at run time: executions and the path they took, the human step (the task
token, approve or reject), and the picture of it all."""
