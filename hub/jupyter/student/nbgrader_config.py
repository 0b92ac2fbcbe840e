# nbgrader settings of every student's server on the course hub (hub/jupyter/student is first
# on the servers' JUPYTER_CONFIG_PATH). The Assignment List fetches from and submits to the
# shared exchange; the assignment lands in the student's home folder.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "nnfs")
c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]
# Refuse a submission that lost one of the released notebooks (as the course config does).
c.ExchangeSubmit.strict = True
