/* bitsd: lists the subsystems and hands them to the daemon runtime. */
#include "config.h"

#include <stdio.h>

int main(void)
{
	printf("%s\n", PACKAGE_STRING);
	return 0;
}
