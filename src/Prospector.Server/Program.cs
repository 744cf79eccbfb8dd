using Prospector.Server.Hosting;
using Prospector.Server.Simulation;

// CLI verbs that need no web host.
if (args is [SimulateCommand.Verb, ..])
{
    return await SimulateCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddProspector();

var app = builder.Build();
app.MapProspector();
app.Run();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
